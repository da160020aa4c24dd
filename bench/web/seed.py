"""Untimed setup of the web survey benchmark: cases at the survey status, forms, the page.

Cases go in through the product's own door, signed `POST /api/v1/onestop/events` at status 10
(`bot.cli.cases.sample_event`); the intake's answer carries each case's web link, so the bench
never computes a token itself. Every case that will be POSTed is opened once first, as a
citizen would (`GET /s/<token>`), and its form's `csrf` and version `v` are read from the page;
its answers are then drawn from the built-in short questionnaire: most all good, every fifth
with one factor rated low and its "why?" question answered (what a browser with the page's
script sends), one in fifty reporting money asked (a complaint); the low and the complaining
ones raise the heads' alerts, as in life. The form page is captured in both languages (its
bytes: HTML, inline CSS, script, gzip) and cut into the baseline's template.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from bench.ingest.payloads import ZONE, sign
from bench.web.baseline import Template
from bench.web.loadgen import address
from bot.cli.cases import sample_event
from bot.survey.questionnaire import Questionnaire, builtin

INTAKE_PATH = "/api/v1/onestop/events"
SURVEY_STATUS = 10
FORM_MARKER = 'id="survey"'
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
# Headers of a response that are not the page's own (the baseline sets its own).
TRANSPORT_HEADERS = {"date", "content-length", "server", "content-type", "connection"}
COMPLAINTS = ("money_asked", "harassment")  # yes_no topics where "y" is a complaint
COMMENTS = ("Cán bộ nhiệt tình, hướng dẫn rõ ràng.", "Thủ tục nhanh gọn.", "")


@dataclass(frozen=True, slots=True)
class Case:
    code: str
    path: str  # /s/<token>


@dataclass(frozen=True, slots=True)
class PageBytes:
    """What a citizen's phone downloads for the form (CSS and script are inline)."""

    html: int
    css: int
    script: int
    gzip: int

    def as_dict(self) -> dict[str, int]:
        return {"html": self.html, "css": self.css, "script": self.script, "gzip": self.gzip}


async def _bounded(
    items: Sequence[Any], concurrency: int, work: Callable[[int, Any], Awaitable[None]]
) -> None:
    """Run `work(index, item)` over `items`, at most `concurrency` at a time."""
    cursor = 0

    async def worker() -> None:
        nonlocal cursor
        while cursor < len(items):
            index = cursor
            cursor += 1
            await work(index, items[index])

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def seed_cases(
    base_url: str, *, count: int, prefix: str, secret: str, concurrency: int = 16
) -> list[Case]:
    """`count` cases delivered at the survey status; their codes and page paths, in order."""
    now = datetime.now(ZONE).replace(tzinfo=None, microsecond=0)
    template = sample_event("X", SURVEY_STATUS, now)
    cases: list[Case | None] = [None] * count
    problems: list[str] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def deliver(index: int, code: str) -> None:
            event = dict(template, MaHoSo=code)
            body = json.dumps(event, ensure_ascii=False).encode("utf-8")
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Sipas-Timestamp": timestamp,
                "X-Sipas-Signature": sign(secret, timestamp, body),
            }
            async with session.post(base_url + INTAKE_PATH, data=body, headers=headers) as answer:
                if answer.status != 202:
                    problems.append(f"{code}: {answer.status} {(await answer.text())[:200]}")
                    return
                reply = await answer.json()
            cases[index] = Case(code, urlsplit(reply["links"]["web"]).path)

        codes = [f"{prefix}-{index:07d}" for index in range(count)]
        await _bounded(codes, concurrency, deliver)
    if problems:
        raise RuntimeError(f"seeding failed for {len(problems)} cases, e.g. {problems[:3]}")
    return [case for case in cases if case is not None]


def answers(index: int, form: Questionnaire) -> list[tuple[str, str]]:
    """The survey fields one simulated citizen sends (valid and complete, deterministic)."""
    rng = random.Random(index)
    low = rng.randint(1, 5) if index % 5 == 0 else None
    pairs: list[tuple[str, str]] = []
    for question in form.questions:
        name = "q_" + question.code
        if question.is_branch:
            if low is not None and question.after_low_in_factor == low:
                pairs.append(("seen", question.code))
                pairs.append((name, rng.choice(question.options).code))
            continue
        if question.kind == "likert5":
            pairs.append((name, "2" if low and question.factor == low else rng.choice("45")))
        elif question.kind == "yes_no" and question.topic in COMPLAINTS:
            pairs.append(
                (name, "y" if index % 50 == 7 and question.topic == "money_asked" else "n")
            )
        elif question.kind == "yes_no":
            pairs.append((name, "n" if low is not None else "y"))
        elif question.kind == "choice":
            picks = rng.sample(question.options, rng.randint(1, question.max_choices))
            pairs.extend((name, option.code) for option in picks)
        elif question.kind == "text" and (comment := rng.choice(COMMENTS)):
            pairs.append((name, comment))
    return pairs


async def prepare_posts(
    base_url: str, cases: Sequence[Case], *, address_block: int, concurrency: int = 16
) -> list[str]:
    """Open each case's form once (as its citizen would) and build the body it will POST."""
    form = builtin("short")
    bodies: list[str | None] = [None] * len(cases)
    problems: list[str] = []
    addresses = max(1, -(-len(cases) // 300))
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=4, local_addr=(address(address_block, i), 0))
        )
        for i in range(addresses)
    ]
    try:

        async def open_form(index: int, case: Case) -> None:
            session = sessions[index % addresses]
            async with session.get(base_url + case.path) as page:
                html = await page.text()
                if page.status != 200 or FORM_MARKER not in html:
                    problems.append(f"{case.code}: {page.status} {html[:200]}")
                    return
            hidden = dict((unescape(n), unescape(v)) for n, v in HIDDEN.findall(html))
            fields = [("csrf", hidden["csrf"]), ("v", hidden["v"])]
            bodies[index] = urlencode(fields + answers(index, form))

        await _bounded(cases, concurrency, open_form)
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    if problems:
        raise RuntimeError(f"{len(problems)} forms did not open, e.g. {problems[:3]}")
    return [body for body in bodies if body is not None]


def page_bytes(html: str) -> PageBytes:
    raw = html.encode("utf-8")
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    return PageBytes(
        html=len(raw),
        css=len(css.group(1).encode("utf-8")) if css else 0,
        script=len(script.group(1).encode("utf-8")) if script else 0,
        gzip=len(gzip.compress(raw, 6)),
    )


async def capture(
    base_url: str, case: Case, *, procedure: str, source: str
) -> tuple[Template, dict[str, Any]]:
    """The form page of `case` in both languages: the baseline's template (from the
    Vietnamese one) and the page's bytes; `source` is the address to ask from."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        pages: dict[str, tuple[str, dict[str, str]]] = {}
        for lang, query in (("vi", ""), ("en", "?lang=en")):
            async with session.get(base_url + case.path + query) as page:
                html = await page.text()
                if page.status != 200 or FORM_MARKER not in html:
                    raise RuntimeError(f"the form did not open: {page.status} {html[:300]}")
                pages[lang] = (html, dict(page.headers))
    html, headers = pages["vi"]
    missing = [
        q.code for q in builtin("short").questions if f'name="q_{escape(q.code)}"' not in html
    ]
    if missing:
        raise RuntimeError(f"the served form is not the built-in short form: no {missing}")
    csrf = dict(HIDDEN.findall(html))["csrf"]
    own = {k: v for k, v in headers.items() if k.lower() not in TRANSPORT_HEADERS}
    values = {"code": escape(case.code), "procedure": escape(procedure), "csrf": csrf}
    template = Template.cut(html, values, own)
    sizes = {lang: page_bytes(text).as_dict() for lang, (text, _h) in pages.items()}
    return template, {"form": sizes, "headers": sorted(own)}


async def thanks_bytes(base_url: str, case: Case, *, source: str) -> dict[str, Any]:
    """The thank-you page a POSTed case now shows (the 303's target)."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(base_url + case.path) as page:
            html = await page.text()
            status = page.status
    return {"status": status, "form_shown": FORM_MARKER in html, **page_bytes(html).as_dict()}
