"""Reading what an admin types while editing the questionnaire: fields, kinds, topics, options.

Vietnamese words are accepted with or without diacritics ("Bắt buộc", "batbuoc"); every refusal
is an `EditError` whose `key` and `params` pick a polite message in
`bot.commands.questionnaire_texts`.
"""

from __future__ import annotations

import re

from bot.survey.questionnaire import FORMS
from bot.vietnamese import fold as vietnamese_fold

KIND_ORDER = ("likert5", "yes_no", "choice", "text")
# What scoring reads from each topic decides the kind of answer it needs.
TOPIC_KIND = {
    "criterion": "likert5",
    "overall": "likert5",
    "money_asked": "yes_no",
    "harassment": "yes_no",
    "on_time": "yes_no",
    "visits": "choice",
    "expectations": "choice",
    "reason": "choice",
    "suggestion": "text",
}
FACTOR_TOPICS = frozenset({"criterion", "reason"})
MAX_TEXT = 500
MAX_OPTION_TEXT = 60
MAX_OPTIONS = 10
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,23}$")
OPTION_RE = re.compile(r"^[A-Za-z0-9_]{1,8}$")

FIELDS = ("text_vi", "text_en", "kind", "topic", "factor", "required", "options", "max_choices")
_FIELD_WORDS = {
    "text_vi": ("vi", "noidung", "text_vi"),
    "text_en": ("en", "tienganh", "text_en"),
    "kind": ("loai", "kind"),
    "topic": ("chude", "topic"),
    "factor": ("nhom", "yeuto", "factor"),
    "required": ("batbuoc", "required"),
    "options": ("luachon", "phuongan", "options"),
    "max_choices": ("toida", "max", "max_choices"),
}
_KIND_WORDS = {
    "likert5": ("likert5", "5muc", "muc", "hailong"),
    "yes_no": ("yes_no", "yesno", "cokhong"),
    "choice": ("choice", "luachon", "chon"),
    "text": ("text", "tuluan", "vanban", "gopy"),
}
_YES = {"co", "yes", "y", "1", "true", "dung", "batbuoc"}
_NO = {"khong", "no", "n", "0", "false", "ko", "k", "tuychon"}
_NONE = {"-", "0", "khong", "none", "bo"}
BASE_WORDS = {"short": ("short", "rutgon", "ngan"), "full": ("full", "daydu", "du")}


class EditError(ValueError):
    """An edit the rules refuse; `key` selects the polite message, `params` fill it in."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def fold(text: str) -> str:
    """Lower-case ASCII without diacritics or spaces: "Bắt buộc" → "batbuoc"."""
    return vietnamese_fold(text).replace(" ", "")


def _word(raw: str, table: dict[str, tuple[str, ...]]) -> str | None:
    wanted = fold(raw)
    return next((name for name, words in table.items() if wanted in words), None)


def find_field(raw: str) -> str | None:
    """The field named by `raw` ("chủ đề", "chude", "topic"…), or None."""
    return _word(raw, _FIELD_WORDS)


def parse_field(raw: str) -> str:
    field = _word(raw, _FIELD_WORDS)
    if field is None:
        raise EditError("bad_field", value=raw[:30])
    return field


def parse_code(raw: str) -> str:
    code = raw.strip()
    if not CODE_RE.match(code):
        raise EditError("bad_code", code=code[:30])
    return code


def parse_kind(raw: str) -> str:
    wanted = raw.strip()
    if wanted.isdigit() and 1 <= int(wanted) <= len(KIND_ORDER):
        return KIND_ORDER[int(wanted) - 1]
    kind = _word(wanted, _KIND_WORDS)
    if kind is None:
        raise EditError("bad_kind", value=wanted[:30])
    return kind


def topics_for(kind: str) -> list[str]:
    return [topic for topic, needs in TOPIC_KIND.items() if needs == kind]


def parse_topic(raw: str, kind: str | None = None) -> str:
    """A topic by name, or by its number in the list of topics that fit `kind`."""
    wanted = raw.strip().lower()
    choices = topics_for(kind) if kind else list(TOPIC_KIND)
    if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1]
    if wanted not in TOPIC_KIND:
        raise EditError("bad_topic", value=raw.strip()[:30])
    return wanted


def parse_factor(raw: str) -> int | None:
    wanted = fold(raw)
    if wanted in _NONE:
        return None
    if wanted.isdigit() and 1 <= int(wanted) <= 5:
        return int(wanted)
    raise EditError("bad_factor", value=raw.strip()[:30])


def parse_required(raw: str) -> bool:
    wanted = fold(raw)
    if wanted in _YES:
        return True
    if wanted in _NO:
        return False
    raise EditError("bad_required", value=raw.strip()[:30])


def parse_max(raw: str) -> int:
    wanted = raw.strip()
    if wanted.isdigit() and 1 <= int(wanted) <= MAX_OPTIONS:
        return int(wanted)
    raise EditError("bad_max_value", value=wanted[:30])


def parse_text(raw: str) -> str:
    cleaned = " ".join(raw.split())
    if not cleaned:
        raise EditError("empty_text")
    if len(cleaned) > MAX_TEXT:
        raise EditError("text_too_long", limit=MAX_TEXT)
    return cleaned


def parse_options(raw: str) -> list[dict[str, str]]:
    """Options typed one a line (or separated by ';'): `MÃ = Tiếng Việt | English`."""
    parts = [p.strip() for p in re.split(r"[;\n]", raw) if p.strip()]
    if len(parts) < 2:
        raise EditError("need_options")
    if len(parts) > MAX_OPTIONS:
        raise EditError("too_many_options", limit=MAX_OPTIONS)
    options: list[dict[str, str]] = []
    for part in parts:
        code, sep, texts = part.partition("=")
        vi, bar, en = texts.partition("|")
        code, vi, en = code.strip(), " ".join(vi.split()), " ".join(en.split())
        if not sep or not bar or not vi or not en:
            raise EditError("bad_option", value=part[:40])
        if not OPTION_RE.match(code):
            raise EditError("bad_option_code", code=code[:20])
        if len(vi) > MAX_OPTION_TEXT or len(en) > MAX_OPTION_TEXT:
            raise EditError("option_too_long", limit=MAX_OPTION_TEXT)
        options.append({"code": code, "text_vi": vi, "text_en": en})
    if len({o["code"] for o in options}) != len(options):
        raise EditError("option_twice", code="")
    return options


def parse_base(raw: str) -> str:
    base = _word(raw, {name: BASE_WORDS[name] for name in FORMS})
    if base is None:
        raise EditError("bad_base", value=raw.strip()[:30])
    return base


def parse_position(raw: str, count: int) -> int:
    wanted = raw.strip()
    if wanted.isdigit() and 1 <= int(wanted) <= count:
        return int(wanted)
    raise EditError("bad_position", value=wanted[:20], count=count)
