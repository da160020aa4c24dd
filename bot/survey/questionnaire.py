"""Questionnaires: the built-in SIPAS forms (a data file) and their versioned shape.

A questionnaire is an ordered list of questions. Each has a stable `code` (answers point at it),
a `kind` (`likert5`, `yes_no`, `choice`, `text`), a `topic` that tells scoring what it measures,
Vietnamese and English text, and whether it is required. A `choice` question has options and a
maximum number of picks. A branch question (`after_low_in_factor`) is asked once, right after
the first five-level answer of 1–2 in its factor, so low scores arrive with a reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "questionnaires.json"

KINDS = frozenset({"likert5", "yes_no", "choice", "text"})
TOPICS = frozenset(
    {
        "criterion",  # a SIPAS criterion or one question standing for a whole factor
        "overall",  # overall satisfaction
        "money_asked",  # asked for money beyond the prescribed fees (yes = complaint)
        "harassment",  # harassed or made to come back needlessly (yes = complaint)
        "on_time",  # result returned on time (yes = good)
        "visits",  # how many trips to the agency
        "expectations",  # which aspects most need improving
        "reason",  # why a low score (branch)
        "suggestion",  # free text
    }
)
FORMS = ("short", "full")
# Codes travel in 64-byte callback data, so they stay short and ASCII.
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,23}$")
_OPTION_RE = re.compile(r"^[A-Za-z0-9_]{1,8}$")
LOW_SCORE = 2


class QuestionnaireError(ValueError):
    """A questionnaire definition breaks the rules above."""


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    text_vi: str
    text_en: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    code: str
    kind: str
    topic: str
    factor: int | None
    text_vi: str
    text_en: str
    required: bool = True
    options: tuple[Option, ...] = ()
    max_choices: int = 1
    after_low_in_factor: int | None = None

    @property
    def is_branch(self) -> bool:
        return self.after_low_in_factor is not None

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = [asdict(o) for o in self.options]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            raise QuestionnaireError(f"question needs a text code: {data!r:.80}")
        required = data.get("required", True)
        if not isinstance(required, bool):
            raise QuestionnaireError(f"question {data['code']!r}: required must be true or false")
        try:
            return cls(
                code=data["code"],
                kind=str(data["kind"]),
                topic=str(data["topic"]),
                factor=None if data.get("factor") is None else int(data["factor"]),
                text_vi=str(data["text_vi"]),
                text_en=str(data["text_en"]),
                required=required,
                options=tuple(
                    Option(
                        code=str(o["code"]), text_vi=str(o["text_vi"]), text_en=str(o["text_en"])
                    )
                    for o in data.get("options", ())
                ),
                max_choices=int(data.get("max_choices", 1)),
                after_low_in_factor=(
                    None
                    if data.get("after_low_in_factor") is None
                    else int(data["after_low_in_factor"])
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QuestionnaireError(f"question {data.get('code')!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """An ordered form; `version` is set once it is stored (0 for a built-in template)."""

    base: str
    questions: tuple[Question, ...]
    version: int = 0
    title_vi: str = ""
    title_en: str = ""
    _by_code: dict[str, Question] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        self._by_code.update({q.code: q for q in self.questions})
        check(self)

    def question(self, code: str) -> Question | None:
        return self._by_code.get(code)

    def index(self, code: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.code == code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, version: int = 0) -> Questionnaire:
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise QuestionnaireError("a questionnaire needs a list of questions")
        return cls(
            base=str(data.get("base", "custom")),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
            version=version,
            title_vi=str(data.get("title_vi", "")),
            title_en=str(data.get("title_en", "")),
        )


def check(form: Questionnaire) -> None:
    """Raise `QuestionnaireError` unless every rule of a questionnaire holds."""
    seen: set[str] = set()
    low_factors = {q.factor for q in form.questions if q.kind == "likert5" and q.factor}
    for q in form.questions:
        where = f"question {q.code!r}"
        if not _CODE_RE.match(q.code):
            raise QuestionnaireError(f"{where}: code must be 1–24 letters, digits, '.' or '_'")
        if q.code in seen:
            raise QuestionnaireError(f"{where}: code is used twice")
        seen.add(q.code)
        if q.kind not in KINDS:
            raise QuestionnaireError(f"{where}: kind must be one of {sorted(KINDS)}")
        if q.topic not in TOPICS:
            raise QuestionnaireError(f"{where}: topic must be one of {sorted(TOPICS)}")
        if not q.text_vi.strip() or not q.text_en.strip():
            raise QuestionnaireError(f"{where}: needs Vietnamese and English text")
        if q.factor is not None and q.factor not in range(1, 6):
            raise QuestionnaireError(f"{where}: factor must be 1–5")
        if q.kind == "choice":
            if len(q.options) < 2:
                raise QuestionnaireError(f"{where}: a choice needs at least two options")
            if not 1 <= q.max_choices <= len(q.options):
                raise QuestionnaireError(f"{where}: max_choices must fit the options")
            if len({o.code for o in q.options}) != len(q.options):
                raise QuestionnaireError(f"{where}: option codes must differ")
            for option in q.options:
                if not _OPTION_RE.match(option.code):
                    raise QuestionnaireError(f"{where}: option codes are 1–8 ASCII letters/digits")
                if not option.text_vi.strip() or not option.text_en.strip():
                    raise QuestionnaireError(f"{where}: every option needs Vietnamese and English")
        elif q.options:
            raise QuestionnaireError(f"{where}: only a choice has options")
        if q.is_branch:
            if q.after_low_in_factor not in low_factors:
                raise QuestionnaireError(f"{where}: no five-level question in that factor")
            if q.required:
                raise QuestionnaireError(f"{where}: a branch question is optional")
            if q.kind != "choice" or q.factor != q.after_low_in_factor:
                raise QuestionnaireError(f"{where}: a branch is a choice in its own factor")
    if not any(q.kind == "likert5" for q in form.questions):
        raise QuestionnaireError("a questionnaire needs at least one five-level question")


@cache
def _data() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def builtin(base: str) -> Questionnaire:
    """The built-in `short` (default, for chat) or `full` (19 SIPAS criteria) form."""
    if base not in FORMS:
        raise QuestionnaireError(f"unknown form {base!r}; built-in forms: {', '.join(FORMS)}")
    return Questionnaire.from_dict({"base": base, **_data()["forms"][base]})
