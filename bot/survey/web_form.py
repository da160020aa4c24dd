"""The survey behind the receipt's web link: what the page shows, and a submitted form turned
into answers through the same engine and rules as the chat channels.

One response per case whatever the channel: the web answers the case's survey if a chat opened
it (finishing what the chat left, on the version it pinned) or opens it on the active version;
a survey another channel completed shows the thank-you page and records nothing more; expiry
is the chat's (an unopened survey expires `expiry` after the case reached the survey status).

A POST is all or nothing: every answer the respondent still owes, validated, or nothing at all.
Fields are `q_<code>` (see `bot.web.pages.form`), plus `seen` (the "why?" questions the page
showed: a script reveals them after a low answer, and a browser without script gets them on a
second step) and `v` (the questionnaire version the page was built on, for a survey not yet
opened). Anything a form sends that the questionnaire does not hold is refused, never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.survey.engine import MAX_TEXT, NO, YES, AnswerError, Given, ask_order, next_question
from bot.survey.questionnaire import Question, Questionnaire
from bot.survey.service import SurveyService
from storage.surveys import OPEN_SURVEY, AnswerRow
from storage.web_survey_driver import WebSurveyDriver
from storage.web_surveys import WebCaseState, WebSurveyRow, WebSurveyStore

log = logging.getLogger(__name__)
QUESTION_PREFIX = "q_"
SEEN_FIELD = "seen"
VERSION_FIELD = "v"
_LEVELS = ("1", "2", "3", "4", "5")
# Tries at storing a form when a chat moves the survey on at the same moment.
_ATTEMPTS = 3
# What the page shows, by `WebView.kind`.
CASE, FORM, THANKS, EXPIRED, CLOSED = "case", "form", "thanks", "expired", "closed"


@dataclass(frozen=True, slots=True)
class Posted:
    """A submitted form's survey fields: raw values by question code (empty ones dropped), the
    "why?" questions the page showed, and the version the page was built on."""

    values: dict[str, tuple[str, ...]]
    seen: frozenset[str] = frozenset()
    version: int | None = None


def read_posted(fields: Iterable[tuple[str, str]]) -> Posted:
    """Gather the survey fields of a form body (other names are not the survey's: skipped)."""
    values: dict[str, list[str]] = {}
    seen: set[str] = set()
    version: int | None = None
    for name, value in fields:
        if name.startswith(QUESTION_PREFIX):
            bucket = values.setdefault(name[len(QUESTION_PREFIX) :], [])
            if value != "":
                bucket.append(value)
        elif name == SEEN_FIELD:
            seen.add(value)
        elif name == VERSION_FIELD and value.isascii() and value.isdigit() and len(value) < 10:
            version = int(value)
    return Posted({code: tuple(v) for code, v in values.items() if v}, frozenset(seen), version)


def _clean_text(value: str) -> str:
    """Line breaks as `\\n`, no control characters but line breaks and tabs, trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if c in "\n\t" or not (ord(c) < 32 or ord(c) == 127)).strip()


def read_value(question: Question, values: tuple[str, ...]) -> Given | None:
    """The answer `values` give `question`; None when they answer nothing (a blank text).

    Raises `AnswerError` with "out_of_range" (a value the question does not offer, or several
    for a one-value question), "too_many" (more picks than allowed) or "too_long"."""
    if question.kind == "choice":
        picked = set(values)
        if any(question.option(code) is None for code in picked):
            raise AnswerError("out_of_range")
        if len(picked) > question.max_choices:
            raise AnswerError("too_many")
        return Given(choices=tuple(o.code for o in question.options if o.code in picked))
    if len(values) != 1:
        raise AnswerError("out_of_range")
    value = values[0]
    if question.kind == "likert5" and value in _LEVELS:
        return Given(value_int=int(value))
    if question.kind == "yes_no" and value in (YES, NO):
        return Given(value_int=1 if value == YES else 0)
    if question.kind == "text":
        cleaned = _clean_text(value)
        if len(cleaned) > MAX_TEXT:
            raise AnswerError("too_long")
        return Given(value_text=cleaned) if cleaned else None
    raise AnswerError("out_of_range")


@dataclass(frozen=True, slots=True)
class Review:
    """A submitted form checked against the questionnaire and the answers already stored.

    `answers`: the valid posted answers to questions still owed; `errors`: reason by code
    ("unknown" for a code the questionnaire lacks); `missing`: required questions left
    unanswered; `pending`: "why?" questions never shown (asked on a second step); `record`:
    what is stored when the form is complete, in asking order (optional ones left: skipped)."""

    answers: dict[str, Given]
    errors: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    record: tuple[tuple[Question, Given], ...] = ()

    @property
    def complete(self) -> bool:
        return not self.errors and not self.missing and not self.pending


def review(form: Questionnaire, stored: Mapping[str, Given], posted: Posted) -> Review:
    """Check `posted` against `form` for a respondent who already answered `stored`."""
    answers: dict[str, Given] = {}
    errors: dict[str, str] = {}
    for code, values in posted.values.items():
        question = form.question(code)
        if question is None:
            errors[code] = "unknown"
            continue
        if code in stored:
            continue  # answered meanwhile on another channel: the stored answer stands
        try:
            given = read_value(question, values)
        except AnswerError as exc:
            errors[code] = exc.reason
            continue
        if given is not None:
            answers[code] = given
    order = ask_order(form, {**stored, **answers})
    missing: list[str] = []
    pending: list[str] = []
    record: list[tuple[Question, Given]] = []
    for question in order:
        if question.code in stored:
            continue
        given = answers.get(question.code)
        if given is not None:
            record.append((question, given))
        elif question.is_branch and question.code not in posted.seen:
            pending.append(question.code)
        elif question.required:
            missing.append(question.code)
        else:
            record.append((question, Given(skipped=True)))
    return Review(answers, errors, tuple(missing), tuple(pending), tuple(record))


def given_of(row: AnswerRow) -> Given:
    return Given(
        value_int=row.value_int,
        value_text=row.value_text,
        choices=row.choices,
        skipped=row.skipped,
    )


@dataclass(frozen=True, slots=True)
class WebView:
    """What the case's page shows: `kind` is CASE, FORM, THANKS, EXPIRED or CLOSED; a FORM has
    its questionnaire and the answers already given (on a chat), and the survey if one is
    open. `expires_at` is when an unopened survey would expire (naive UTC)."""

    kind: str
    form: Questionnaire | None = None
    stored: dict[str, Given] = field(default_factory=dict)
    survey: WebSurveyRow | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a POST did: `recorded` (the survey is now complete: thank the citizen), else the
    page to show again: `view` with the `review` of the form when it is a FORM."""

    recorded: bool
    view: WebView
    review: Review | None = None


class WebSurveys:
    """The web channel of the survey service."""

    def __init__(self, *, survey: SurveyService, store: WebSurveyStore | WebSurveyDriver) -> None:
        self.survey = survey
        self.store = store

    async def view(
        self,
        case_code: str,
        status: int,
        *,
        version: int | None = None,
        state: WebCaseState | None = None,
    ) -> WebView:
        """What the page of a case at `status` shows now; `version` is the questionnaire a
        form was built on, used if the survey is still unopened and that version exists;
        `state` the case's survey state if the caller just read it (else it is read here)."""
        survey = self.survey
        if state is None:
            state = await self.store.state(case_code, survey.survey_statuses)
        now = survey.clock.utcnow()
        row = state.survey
        if row is not None:
            if row.status == "completed":
                return WebView(THANKS, survey=row)
            if row.status == "expired" or (row.status in OPEN_SURVEY and row.expires_at <= now):
                return WebView(EXPIRED, survey=row)
            if row.status not in OPEN_SURVEY:
                return WebView(CLOSED, survey=row)
            form = await survey.forms.get(row.version)
            stored = {a.question_code: given_of(a) for a in state.answers}
            if next_question(form, stored) is None:
                return WebView(THANKS, survey=row)
            return WebView(FORM, form=form, stored=stored, survey=row, expires_at=row.expires_at)
        if status not in survey.survey_statuses:
            return WebView(CASE)
        expires_at = (state.reached_at or now) + survey.expiry
        if expires_at <= now:
            return WebView(EXPIRED)
        try:
            form = await self._form(version)
        except LookupError:
            return WebView(CASE)  # no questionnaire to ask yet
        return WebView(FORM, form=form, expires_at=expires_at)

    async def _form(self, version: int | None) -> Questionnaire:
        forms = self.survey.forms
        if version is not None:
            try:
                return await forms.get(version)
            except LookupError:
                pass
        return await forms.active()

    async def submit(
        self,
        case_code: str,
        status: int,
        posted: Posted,
        *,
        state: WebCaseState | None = None,
    ) -> Submitted:
        """Record a submitted form if it completes the survey; otherwise say what to show.
        `state`: the case's survey state as just read (the first attempt uses it; a retry,
        after another channel moved the survey on, reads it again)."""
        survey = self.survey
        for _ in range(_ATTEMPTS):
            view = await self.view(case_code, status, version=posted.version, state=state)
            state = None
            if view.kind != FORM or view.form is None or view.expires_at is None:
                return Submitted(False, view)
            checked = review(view.form, view.stored, posted)
            if not checked.complete:
                return Submitted(False, view, checked)
            survey_id = await self.store.complete(
                case_code,
                view.survey,
                version=view.form.version,
                answers=[
                    AnswerRow(
                        question_code=question.code,
                        value_int=given.value_int,
                        value_text=given.value_text,
                        choices=given.choices,
                        skipped=given.skipped,
                    )
                    for question, given in checked.record
                ],
                answered_at=survey.clock.local_now(),
                now=survey.clock.utcnow(),
                expires_at=view.expires_at,
            )
            if survey_id is None:
                continue  # another channel moved the survey on: look again
            log.info(
                "web survey completed",
                extra={"survey_id": survey_id, "answers": len(checked.record)},
            )
            await self._completed(survey_id)
            return Submitted(True, WebView(THANKS))
        return Submitted(False, await self.view(case_code, status))

    async def _completed(self, survey_id: int) -> None:
        """The heads' alerts, exactly as when a chat completes a survey."""
        hook = self.survey.on_completed
        if hook is None:
            return
        try:
            await hook(survey_id)
        except Exception:
            # The citizen's answers are stored; an alert failure must not undo that.
            log.exception("alerting on a completed survey failed")
