"""The editing rules of the questionnaire draft: change it, and check the result as a whole.

Pure functions over a questionnaire definition (the JSON dict stored in `questionnaires`); the
whole result is always checked with `bot.survey.questionnaire.check` plus the rules scoring
relies on (a topic fixes the kind; criteria and reasons belong to a factor). Every refusal is an
`EditError` whose `key` and `params` pick a message in `bot.commands.questionnaire_texts`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.commands.questionnaire_input import (
    FACTOR_TOPICS,
    FIELDS,
    TOPIC_KIND,
    EditError,
    parse_factor,
    parse_field,
    parse_kind,
    parse_max,
    parse_options,
    parse_position,
    parse_required,
    parse_text,
    parse_topic,
    topics_for,
)
from bot.survey.questionnaire import Question, Questionnaire, QuestionnaireError, builtin

# Fragments of `QuestionnaireError` messages (bot/survey/questionnaire.py) → message keys.
_CHECK_KEYS = (
    ("code must be", "bad_code"),
    ("code is used twice", "code_taken"),
    ("kind must be", "bad_kind"),
    ("topic must be", "bad_topic"),
    ("needs Vietnamese and English text", "need_texts"),
    ("factor must be", "bad_factor"),
    ("at least two options", "need_options"),
    ("max_choices must fit", "bad_max"),
    ("option codes must differ", "option_twice"),
    ("option codes are", "bad_option_code"),
    ("every option needs", "option_texts"),
    ("only a choice has options", "options_only_choice"),
    ("no five-level question in that factor", "branch_no_likert"),
    ("a branch question is optional", "branch_optional"),
    ("a branch is a choice", "branch_choice"),
    ("at least one five-level question", "need_likert"),
)
_WHERE_RE = re.compile(r"^question '([^']*)'")


def validated(base: str, definition: dict[str, Any]) -> Questionnaire:
    """The definition as a questionnaire, or `EditError` naming the first broken rule."""
    try:
        form = Questionnaire.from_dict({**definition, "base": base})
    except QuestionnaireError as exc:
        raise _translated(exc) from exc
    for q in form.questions:
        if TOPIC_KIND[q.topic] != q.kind:
            raise EditError("topic_kind", code=q.code, topic=q.topic, kind=TOPIC_KIND[q.topic])
        if (q.topic in FACTOR_TOPICS) != (q.factor is not None):
            key = "factor_needed" if q.topic in FACTOR_TOPICS else "factor_unused"
            raise EditError(key, code=q.code)
        if (q.topic == "reason") != q.is_branch:
            raise EditError("reason_branch", code=q.code)
    return form


def _translated(exc: QuestionnaireError) -> EditError:
    message = str(exc)
    where = _WHERE_RE.match(message)
    code = where.group(1) if where else ""
    for fragment, key in _CHECK_KEYS:
        if fragment in message:
            return EditError(key, code=code, value=code)
    return EditError("invalid", detail=message[:200], code=code)


def known_code(definition: dict[str, Any], code: str) -> str:
    """The stored spelling of a code typed by an admin ("f1.why" → "F1.WHY")."""
    wanted = code.strip()
    found = codes(definition)
    if wanted in found:
        return wanted
    folded = [c for c in found if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise EditError("unknown_code", code=wanted[:30])


def _find(definition: dict[str, Any], code: str) -> tuple[int, dict[str, Any]]:
    code = known_code(definition, code)
    index = codes(definition).index(code)
    return index, dict(definition["questions"][index])


def codes(definition: dict[str, Any]) -> list[str]:
    return [str(q["code"]) for q in definition["questions"]]


def edit(
    base: str, definition: dict[str, Any], code: str, changes: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Apply typed `changes` (field → raw value) to question `code`.

    Returns (new definition, the fields before, the fields after). A kind that needs a topic or
    options not given raises `EditError` "kind_needs_topic" / "kind_needs_options", so a guided
    conversation can ask for them and try again with more `changes`.
    """
    index, question = _find(definition, code)
    old = dict(question)
    fields = [parse_field(f) if f not in FIELDS else f for f in changes]
    raw = dict(zip(fields, changes.values(), strict=True))
    for field in FIELDS:
        if field in raw:
            _apply(question, field, raw[field])
    if "kind" in raw:
        _settle_kind(question, given_topic="topic" in raw, given_options="options" in raw)
    if raw.keys() & {"kind", "topic", "factor"}:
        _settle_branch(question)
    questions = list(definition["questions"])
    questions[index] = question
    new = {**definition, "questions": questions}
    validated(base, new)
    changed = [k for k in question if question[k] != old.get(k)]
    if not changed:
        raise EditError("unchanged", code=code)
    return new, {k: old.get(k) for k in changed}, {k: question[k] for k in changed}


def _apply(question: dict[str, Any], field: str, raw: str) -> None:
    if field in ("text_vi", "text_en"):
        question[field] = parse_text(raw)
    elif field == "kind":
        question["kind"] = parse_kind(raw)
    elif field == "topic":
        question["topic"] = parse_topic(raw, question.get("kind"))
    elif field == "factor":
        question["factor"] = parse_factor(raw)
    elif field == "required":
        question["required"] = parse_required(raw)
    elif field == "options":
        question["options"] = parse_options(raw)
        question["max_choices"] = min(int(question.get("max_choices", 1)), len(question["options"]))
    elif field == "max_choices":
        question["max_choices"] = parse_max(raw)


def _settle_kind(question: dict[str, Any], *, given_topic: bool, given_options: bool) -> None:
    """After a kind change: drop what the new kind cannot have, or ask what it needs."""
    kind = question["kind"]
    if kind != "choice":
        question["options"], question["max_choices"] = [], 1
    elif not given_options and len(question.get("options") or ()) < 2:
        raise EditError("kind_needs_options", code=question["code"])
    if TOPIC_KIND[question["topic"]] == kind:
        return
    fitting = topics_for(kind)
    if given_topic:
        raise EditError("topic_kind", code=question["code"], topic=question["topic"], kind=kind)
    if len(fitting) == 1:
        question["topic"] = fitting[0]
    else:
        # Which topic decides how scoring reads the answers: the admin says it.
        raise EditError(
            "kind_needs_topic",
            code=question["code"],
            kind=kind,
            topics=", ".join(fitting),
            first=fitting[0],
        )


def _settle_branch(question: dict[str, Any]) -> None:
    """A reason question is the branch of its factor; no other question is a branch."""
    if question["topic"] == "reason":
        question["after_low_in_factor"] = question.get("factor")
        question["required"] = False
    else:
        question["after_low_in_factor"] = None


def new_question(fields: dict[str, Any]) -> dict[str, Any]:
    """A question from the answers of the guided "add" conversation (already parsed)."""
    topic = fields["topic"]
    return Question.from_dict(
        {
            "code": fields["code"],
            "kind": fields["kind"],
            "topic": topic,
            "factor": fields.get("factor"),
            "text_vi": fields["text_vi"],
            "text_en": fields["text_en"],
            "required": False if topic == "reason" else bool(fields.get("required", True)),
            "options": fields.get("options", []),
            "max_choices": int(fields.get("max_choices", 1)),
            "after_low_in_factor": fields.get("factor") if topic == "reason" else None,
        }
    ).to_dict()


def add(base: str, definition: dict[str, Any], question: dict[str, Any]) -> dict[str, Any]:
    """Append a question (checked as part of the whole form)."""
    if question["code"].casefold() in {c.casefold() for c in codes(definition)}:
        raise EditError("code_taken", code=question["code"])
    new = {**definition, "questions": [*definition["questions"], question]}
    validated(base, new)
    return new


def remove(
    base: str, definition: dict[str, Any], code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Drop a question; returns (new definition, the question removed)."""
    index, question = _find(definition, code)
    questions = list(definition["questions"])
    del questions[index]
    new = {**definition, "questions": questions}
    validated(base, new)
    return new, question


def move(
    base: str, definition: dict[str, Any], code: str, raw_position: str
) -> tuple[dict[str, Any], int, int]:
    """Move a question to a 1-based position; returns (new definition, old, new position)."""
    index, question = _find(definition, code)
    questions = list(definition["questions"])
    position = parse_position(raw_position, len(questions))
    del questions[index]
    questions.insert(position - 1, question)
    new = {**definition, "questions": questions}
    validated(base, new)
    return new, index + 1, position


def rebase(base: str) -> dict[str, Any]:
    """The built-in form `base` as a fresh draft definition."""
    return builtin(base).to_dict()


def differences(active: dict[str, Any], draft: dict[str, Any]) -> dict[str, list[str]]:
    """Codes added, removed and changed in the draft; `moved` when only the order differs."""
    old = {q["code"]: q for q in active["questions"]}
    new = {q["code"]: q for q in draft["questions"]}
    common_old = [c for c in old if c in new]
    common_new = [c for c in new if c in old]
    return {
        "added": [c for c in new if c not in old],
        "removed": [c for c in old if c not in new],
        "changed": [c for c in common_new if _comparable(new[c]) != _comparable(old[c])],
        "moved": [] if common_old == common_new else ["order"],
    }


def _comparable(question: dict[str, Any]) -> dict[str, Any]:
    return Question.from_dict(question).to_dict()
