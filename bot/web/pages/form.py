"""The survey as one server-rendered form (the field names are the contract, interfaces.md).

Each question still owed is a fieldset `f_<code>` with a legend (a text question: a labelled
`textarea`); inputs are named `q_<code>` with ids `q_<code>-<value>` (`q_<code>` for a text),
radios `1`–`5` for a five-level question, `y`/`n` for yes/no, checkboxes of the option codes
for a choice. A factor's "why?" question follows its last five-level question, hidden and
disabled until one of them is answered low (the page's one script; the same state is rendered
by the server when a form comes back). A shown "why?" question carries a `seen` field, so the
server knows to ask the hidden ones on a second step when no script ran. Answers a chat
already gave are not asked again. Problems are marked per question (`e_<code>`) and summed up
at the top (`#problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.survey.engine import MAX_TEXT, NO, YES, Given, ask_order
from bot.survey.questionnaire import Question, Questionnaire
from bot.survey.web_form import QUESTION_PREFIX, SEEN_FIELD, VERSION_FIELD, Posted, Review
from bot.texts import EN, LIKERT, text
from bot.web.csrf import FIELD as CSRF_FIELD
from bot.web.pages.layout import esc, page, paragraph

_REASONS = {
    "out_of_range": "web.error_out_of_range",
    "too_many": "web.error_too_many",
    "too_long": "web.error_too_long",
}


@dataclass(frozen=True, slots=True)
class FormPage:
    """Everything the form shows: the case, the questionnaire, the answers a chat gave, the
    CSRF value, and — when a POST comes back — what was posted and what is wrong with it.
    `step_two` shows only the "why?" questions a browser without script never saw."""

    case_code: str
    procedure: str
    form: Questionnaire
    csrf: str
    stored: Mapping[str, Given] = field(default_factory=dict)
    posted: Posted = field(default_factory=lambda: Posted({}))
    review: Review | None = None
    step_two: bool = False


def _qtext(lang: str, question: Question) -> str:
    return question.text_en if lang == EN else question.text_vi


def _hidden(name: str, value: object) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


class _Renderer:
    def __init__(self, lang: str, data: FormPage) -> None:
        self.lang = lang
        self.data = data
        self.review = data.review
        answers = data.review.answers if data.review else {}
        stored = dict(data.stored)
        # "why?" questions the stored answers already call for, and those the posted ones do.
        self.called = {q.code for q in ask_order(data.form, stored) if q.is_branch}
        self.shown = {q.code for q in ask_order(data.form, {**stored, **answers}) if q.is_branch}
        self.number = 0

    def problem(self, code: str) -> str | None:
        if self.review is None:
            return None
        reason = self.review.errors.get(code)
        if reason in _REASONS:
            question = self.data.form.question(code)
            most = question.max_choices if question else 1
            return text(self.lang, _REASONS[reason], max=most if reason == "too_many" else MAX_TEXT)
        if code in self.review.missing:
            return text(self.lang, "web.missing")
        return None

    def chosen(self, code: str) -> tuple[str, ...]:
        return self.data.posted.values.get(code, ())

    def question(self, question: Question, *, why_of: int | None = None) -> str:
        """One question's markup; `why_of` is the factor whose low answers reveal it."""
        code = question.code
        name = QUESTION_PREFIX + code
        problem = self.problem(code)
        error = f'<p class="err" id="e_{esc(code)}">{esc(problem)}</p>' if problem else ""
        css = "q bad" if problem else "q"
        described = f' aria-describedby="e_{esc(code)}"' if problem else ""
        if question.is_branch:
            title = esc(_qtext(self.lang, question))
        else:
            self.number += 1
            title = f"{self.number}. {esc(_qtext(self.lang, question))}"
        if question.required:
            title += ' <span class="req" aria-hidden="true">*</span>'
        if question.kind == "text":
            kept = self.chosen(code)
            hint = text(self.lang, "web.text_hint", max=MAX_TEXT)
            return (
                f'<div class="{css}" id="f_{esc(code)}">'
                f'<label class="qt" for="{esc(name)}">{title}</label>{error}'
                f'<textarea id="{esc(name)}" name="{esc(name)}" rows="4" maxlength="{MAX_TEXT}"'
                f"{described}>{esc(kept[0] if kept else '')}</textarea>"
                f"{paragraph(hint, css='hint')}</div>"
            )
        attributes = ""
        if why_of is not None:
            attributes = f' data-why="{why_of}"'
            if code not in self.shown:
                attributes += " hidden disabled"
        options = self._options(question)
        seen = _hidden(SEEN_FIELD, code) if question.is_branch else ""
        hint = ""
        if question.kind == "choice" and question.max_choices == 1:
            hint = paragraph(text(self.lang, "web.choose_one"), css="hint")
        elif question.kind == "choice":
            hint = paragraph(
                text(self.lang, "web.choose_up_to", max=question.max_choices), css="hint"
            )
        return (
            f'<fieldset class="{css}" id="f_{esc(code)}"{attributes}{described}>'
            f"<legend>{title}</legend>{hint}{error}"
            f'<div class="o">{options}</div>{seen}</fieldset>'
        )

    def _options(self, question: Question) -> str:
        code = question.code
        kind = question.kind
        if kind == "likert5":
            choices = [(str(i), f"{i} – {label}") for i, label in enumerate(LIKERT[self.lang], 1)]
        elif kind == "yes_no":
            choices = [(YES, text(self.lang, "button.yes")), (NO, text(self.lang, "button.no"))]
        else:
            choices = [
                (o.code, o.text_en if self.lang == EN else o.text_vi) for o in question.options
            ]
        kind_attr = "checkbox" if kind == "choice" else "radio"
        factor = self.reveals(question)
        data = f' data-f="{factor}"' if factor is not None else ""
        kept = self.chosen(code)
        parts = []
        for value, label in choices:
            ident = esc(f"{QUESTION_PREFIX}{code}-{value}")
            checked = " checked" if value in kept else ""
            parts.append(
                f'<label for="{ident}"><input type="{kind_attr}" id="{ident}" '
                f'name="{esc(QUESTION_PREFIX + code)}" value="{esc(value)}"{data}{checked}> '
                f"{esc(label)}</label>"
            )
        return "".join(parts)

    def reveals(self, question: Question) -> int | None:
        """The factor whose hidden "why?" question this five-level question may reveal."""
        if question.kind != "likert5" or question.factor is None:
            return None
        branch = self.branch(question.factor)
        if branch is None or branch.code in self.called:
            return None
        return question.factor

    def branch(self, factor: int) -> Question | None:
        return next((q for q in self.data.form.questions if q.after_low_in_factor == factor), None)


def _remaining(renderer: _Renderer) -> str:
    """Every question still owed, each factor's "why?" after its last five-level question."""
    data = renderer.data
    stored = data.stored
    questions = data.form.questions
    last_of_factor: dict[int, int] = {}
    for index, question in enumerate(questions):
        if question.kind == "likert5" and question.factor is not None:
            last_of_factor[question.factor] = index
    parts: list[str] = []
    for index, question in enumerate(questions):
        if question.is_branch:
            continue
        if question.code not in stored:
            parts.append(renderer.question(question))
        factor = question.factor
        if factor is None or last_of_factor.get(factor) != index:
            continue
        branch = renderer.branch(factor)
        if branch is None or branch.code in stored:
            continue
        if branch.code in renderer.called:
            parts.append(renderer.question(branch))
        elif any(
            q.factor == factor and q.kind == "likert5" and q.code not in stored for q in questions
        ):
            parts.append(renderer.question(branch, why_of=factor))
    return "".join(parts)


def _carried(data: FormPage, pending: tuple[str, ...]) -> str:
    """The first step's answers as hidden fields of the second step."""
    review = data.review
    parts = [_hidden(SEEN_FIELD, code) for code in sorted(data.posted.seen)]
    for code, given in (review.answers if review else {}).items():
        if code in pending:
            continue
        question = data.form.question(code)
        if question is None:
            continue
        name = QUESTION_PREFIX + code
        if question.kind == "choice":
            parts.extend(_hidden(name, pick) for pick in given.choices or ())
        elif question.kind == "text":
            parts.append(_hidden(name, given.value_text or ""))
        elif question.kind == "yes_no":
            parts.append(_hidden(name, YES if given.value_int == 1 else NO))
        else:
            parts.append(_hidden(name, given.value_int))
    return "".join(parts)


def _summary(lang: str, review: Review | None) -> str:
    if review is None:
        return ""
    if review.errors:
        message = text(lang, "web.invalid_summary")
        if "unknown" in review.errors.values():
            message += " " + text(lang, "web.unknown_question")
    elif review.missing:
        message = text(lang, "web.missing_summary", count=len(review.missing))
    else:
        return ""
    return f'<div class="alert" id="problems" role="alert">{paragraph(message)}</div>'


def survey_form(lang: str, data: FormPage) -> str:
    """The whole survey page."""
    renderer = _Renderer(lang, data)
    head = paragraph(
        text(lang, "web.survey_intro", code=data.case_code, procedure=data.procedure), id_="intro"
    )
    if data.step_two and data.review is not None:
        pending = data.review.pending
        questions = "".join(
            renderer.question(q) for code in pending if (q := data.form.question(code)) is not None
        )
        body = head + paragraph(text(lang, "web.why_step")) + _carried(data, pending) + questions
    else:
        if data.stored:
            head += paragraph(text(lang, "web.answered_elsewhere", count=len(data.stored)))
        head += paragraph(text(lang, "web.required_note"), css="hint")
        body = head + _summary(lang, data.review) + _remaining(renderer)
    form = (
        f'<form method="post" id="survey" accept-charset="utf-8">'
        f"{_hidden(CSRF_FIELD, data.csrf)}{_hidden(VERSION_FIELD, data.form.version)}{body}"
        f'<p><button type="submit" class="btn" id="send">{esc(text(lang, "web.send"))}</button>'
        "</p></form>"
    )
    return page(lang, text(lang, "web.survey_title"), form, script=not data.step_two)
