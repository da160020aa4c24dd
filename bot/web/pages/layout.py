"""The frame of every citizen page: one small HTML document, its CSS inline (allowed by hash),
the one script (allowed by hash), a language switch, and the Content-Security-Policy.

Nothing is loaded from anywhere: no fonts, images, stylesheets or scripts from outside, so the
page works offline-cached, in an old Android browser, and fits well under 50 KB. Every value
that comes from a one-stop payload or a questionnaire goes through `esc`.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from bot.survey.questionnaire import LOW_SCORE
from bot.texts import EN, VI, text
from bot.web.security import content_security_policy, inline_style

CSS = inline_style(
    "body{font:18px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;"
    "color:#1b1b1b;background:#fff}"
    "main,header{display:block;max-width:40rem;margin:0 auto;padding:0 1rem}"
    "header{text-align:right;padding-top:.6rem}"
    # The language switch is a finger's target too: at least 44×44 CSS px.
    "#lang{display:inline-block;min-width:44px;min-height:44px;padding:.5rem .4rem;"
    "box-sizing:border-box}"
    "h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.2rem}"
    "a{color:#0b57a4}dt{color:#4a4a4a;font-size:.95rem}dd{margin:0 0 .7rem;font-weight:600}"
    ".btn{display:inline-block;background:#0b57a4;color:#fff;border:0;border-radius:.5rem;"
    "padding:.8rem 1.2rem;font:inherit;font-weight:600;text-decoration:none;min-height:48px;"
    "cursor:pointer}"
    ".code{font:700 2.2rem/1.2 Menlo,Consolas,'DejaVu Sans Mono',monospace;"
    "letter-spacing:.12em;margin:.3rem 0 1rem}"
    ".q{border:1px solid #c4c4c4;border-radius:.5rem;margin:0 0 1rem;padding:.6rem .8rem}"
    "legend,.qt{display:block;font-weight:600;padding:0 .3rem}"
    ".o label{display:block;min-height:44px;padding:.5rem .4rem;border-radius:.4rem}"
    ".o label:hover{background:#eef4fb}"
    "input[type=radio],input[type=checkbox]{width:1.4rem;height:1.4rem;margin:0 .6rem 0 0;"
    "vertical-align:middle}"
    "textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;"
    "border:1px solid #767676;border-radius:.4rem}"
    ".req,.err{color:#b3261e}.err{font-weight:600;margin:.2rem 0}"
    ".alert{color:#b3261e;font-weight:600;border:2px solid #b3261e;border-radius:.5rem;"
    "padding:.6rem .8rem}"
    ".bad{border:2px solid #b3261e}.hint{color:#4a4a4a;font-size:.95rem;margin:.2rem 0}"
    ":focus{outline:3px solid #c25e00;outline-offset:2px}[hidden]{display:none}"
)
# Reveals a factor's "why?" question while one of its five-level answers is low. ES5 only
# (old Android browsers); without it the server asks those questions on a second step.
SCRIPT = (
    "(function(){var d=document;function u(){"
    'var s=d.querySelectorAll("fieldset[data-why]"),i,j,r,low;'
    "for(i=0;i<s.length;i++){low=false;"
    "r=d.querySelectorAll('input[data-f=\"'+s[i].getAttribute(\"data-why\")+'\"]');"
    f"for(j=0;j<r.length;j++){{if(r[j].checked&&+r[j].value<={LOW_SCORE})low=true}}"
    'if(low){s[i].removeAttribute("hidden")}else{s[i].setAttribute("hidden","")}'
    "s[i].disabled=!low}}"
    'var q=d.querySelectorAll("input[data-f]"),k;for(k=0;k<q.length;k++)q[k].onclick=u})();'
)
SCRIPT_HASH = (
    "'sha256-"
    + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    + "'"
)


def csp() -> str:
    """The pages' Content-Security-Policy: the application's, plus the one hashed script."""
    return f"{content_security_policy()}; script-src {SCRIPT_HASH}"


def esc(value: object) -> str:
    """Text made safe inside HTML elements and quoted attributes."""
    return escape(str(value), quote=True)


def language(query: str | None) -> str:
    """The page language from `?lang=`: English when asked for, else Vietnamese."""
    return EN if (query or "").strip().lower() == EN else VI


def lang_query(lang: str) -> str:
    """What keeps the language across a link or a redirect ("" for Vietnamese)."""
    return "?lang=en" if lang == EN else ""


def page(lang: str, title: str, body: str, *, script: bool = False) -> str:
    """A whole document: `title` (plain text) and `body` (HTML already escaped)."""
    other = VI if lang == EN else EN
    switch = (
        f'<a id="lang" href="?lang={other}" hreflang="{other}" lang="{other}">'
        f"{esc(text(lang, 'web.other_language'))}</a>"
    )
    tail = f"<script>{SCRIPT}</script>" if script else ""
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><header>{switch}</header>"
        f'<main id="main"><h1>{esc(title)}</h1>{body}</main>{tail}</body></html>'
    )


def paragraph(value: str, *, css: str | None = None, id_: str | None = None) -> str:
    attributes = (f' class="{css}"' if css else "") + (f' id="{id_}"' if id_ else "")
    return f"<p{attributes}>{esc(value)}</p>"
