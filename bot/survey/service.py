"""The survey with citizens behind the chat channels, channel-neutral: opening, resuming and
answering it (by press or text), media, `/stop`, `/help`, `/language`, and the sweep of
reminders and expiry. Linking chats to cases is `bot.survey.linking`.

A channel adapter turns an update into one of the `on_*` calls and renders what comes back.
Everything said to the citizen is queued in the outbox (in the same transaction as the change
it reports) and the dispatcher is woken; only the in-place edit of a pressed question and the
short callback notice are left to the adapter, because they belong to the press itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, time, timedelta

from bot.channels.inbound import ChatRef
from bot.clock import Clock
from bot.survey.engine import AnswerError, Given, Toggle, next_question, parse_button, parse_text
from bot.survey.engine import progress as survey_progress
from bot.survey.forms import FormCache
from bot.survey.intents import question_intent, text_intent
from bot.survey.questionnaire import Question, Questionnaire, builtin
from bot.survey.results import Awaiting, PressResult, TextResult
from scheduler.quiet import next_allowed
from storage.case_links import RESTARTABLE, CaseInfo, Restart
from storage.chats import ChatRow, ChatStore
from storage.outbox import OutboxIntent, OutboxStore
from storage.questionnaires import QuestionnaireStore
from storage.surveys import OPEN_SURVEY, START_BATCH, AnswerRow, SurveyRow, SurveyStore

log = logging.getLogger(__name__)
# Names other modules import from here.
__all__ = [
    "Awaiting",
    "ChatRef",
    "FormCache",
    "PressResult",
    "SurveyService",
    "TextResult",
    "question_intent",
    "text_intent",
]
LANGUAGES = ("vi", "en")


def _given(row: AnswerRow) -> Given:
    return Given(
        value_int=row.value_int,
        value_text=row.value_text,
        choices=row.choices,
        skipped=row.skipped,
    )


class SurveyService:
    """The survey with citizens and the commands about it."""

    def __init__(
        self,
        *,
        chats: ChatStore,
        questionnaires: QuestionnaireStore,
        surveys: SurveyStore,
        outbox: OutboxStore,
        clock: Clock,
        survey_statuses: tuple[int, ...],
        reminder_after: timedelta,
        expiry: timedelta,
        quiet_window: tuple[time, time] | None,
        forms: FormCache | None = None,
        wake: Callable[[], None] = lambda: None,
        on_completed: Callable[[int], Awaitable[object]] | None = None,
        on_note: Callable[[int, str], Awaitable[bool]] | None = None,
    ) -> None:
        self.chats = chats
        self.questionnaires = questionnaires
        self.surveys = surveys
        self.outbox = outbox
        self.forms = forms or FormCache(questionnaires)
        self.clock = clock
        self.survey_statuses = survey_statuses
        self.reminder_after = reminder_after
        self.expiry = expiry
        self.quiet_window = quiet_window
        self.wake = wake
        # Heads' alerts and notes, when the composition root wires them in.
        self.on_completed = on_completed
        self.on_note = on_note

    async def ensure_form(self) -> int:
        """Seed the built-in short form as version 1 on an empty database."""
        form = builtin("short")
        return await self.questionnaires.seed_form(
            base=form.base, definition=form.to_dict(), now=self.clock.utcnow()
        )

    def unprompted_at(self) -> datetime:
        """When a message nobody asked for may go out: now, or when quiet hours end (UTC)."""
        local = self.clock.local_now()
        allowed = next_allowed(local, self.quiet_window)
        return self.clock.utcnow() if allowed == local else self.clock.to_utc(allowed)

    async def chat_row(self, chat: ChatRef) -> ChatRow:
        """The chat's row, created on first contact (in the app's language if we have it)."""
        language = chat.language if chat.language in LANGUAGES else "vi"
        return await self.chats.chat(
            channel=chat.channel,
            external_id=chat.external_id,
            language=language,
            now=self.clock.utcnow(),
        )

    async def say(self, *intents: OutboxIntent) -> None:
        """Queue what is said to chats and wake the dispatchers."""
        await self.outbox.enqueue(list(intents), now=self.clock.utcnow())
        self.wake()

    # -- after a link ----------------------------------------------------------------------

    async def after_link(self, case: CaseInfo, chat_id: int) -> None:
        """Start the survey now if the case is already at the survey status, or resume it."""
        if case.survey_id is None:
            if case.status in self.survey_statuses:
                await self.start_survey(
                    case.code, chat_id, procedure=case.procedure_name, prompted=True
                )
            return
        found = await self.surveys.survey(case.survey_id)
        if found is None:
            return
        survey, answers = found
        if survey.chat_id != chat_id and survey.status in OPEN_SURVEY and not answers:
            # Invited by ZNS and not rated yet: the chat the citizen just linked takes it.
            if await self.surveys.hand_to_chat(
                survey.id, chat_id=chat_id, from_channel="zns", now=self.clock.utcnow()
            ):
                survey = replace(survey, chat_id=chat_id)
        if survey.chat_id == chat_id and survey.status in OPEN_SURVEY:
            # A survey nobody has answered yet (e.g. just restarted by a takeover) is
            # introduced like an invitation.
            intro = None if answers else "invite"
            await self.say(
                await self._question_intent(
                    survey, answers, intro=intro, procedure=case.procedure_name
                )
            )
        elif survey.status == "expired":
            await self.say(text_intent(chat_id, "link_expired", code=case.code))

    async def restart(self, survey_id: int) -> Restart | None:
        """How an unfinished survey starts again for a chat that takes its case over: from
        its first question, on the same questionnaire version, with a full expiry; None if
        the survey is finished (or gone)."""
        found = await self.surveys.survey(survey_id)
        if found is None or found[0].status not in RESTARTABLE:
            return None
        first = next_question(await self.forms.get(found[0].version), {})
        if first is None:
            return None
        return Restart(found[0].id, first.code, self.clock.utcnow() + self.expiry)

    # -- commands --------------------------------------------------------------------------

    async def on_stop(self, chat: ChatRef) -> None:
        """Opt the chat out of everything (confirmed); /start opts back in."""
        row = await self.chat_row(chat)
        await self.chats.opt_out(
            row.id, now=self.clock.utcnow(), intents=[text_intent(row.id, "stopped")]
        )
        self.wake()

    async def on_unsubscribed(self, chat: ChatRef) -> None:
        """The user unfollowed or blocked us: nothing more is sent until they come back."""
        row = await self.chat_row(chat)
        await self.chats.set_chat(row.id, now=self.clock.utcnow(), blocked_at=self.clock.utcnow())

    async def on_help(self, chat: ChatRef) -> None:
        row = await self.chat_row(chat)
        await self.say(text_intent(row.id, "help"))

    async def on_language(self, chat: ChatRef, choice: str | None) -> None:
        row = await self.chat_row(chat)
        wanted = (choice or "").strip().lower()
        if wanted not in LANGUAGES:
            await self.say(text_intent(row.id, "language_usage"))
            return
        await self.chats.set_chat(row.id, now=self.clock.utcnow(), language=wanted)
        await self.say(text_intent(row.id, "language_set"))

    # -- surveys -----------------------------------------------------------------------------

    async def start_survey(
        self, case_code: str, chat_id: int, *, procedure: str, prompted: bool
    ) -> int:
        """Open the case's survey on the active questionnaire and send the first question.

        Prompted by the citizen (they just linked the case), it goes out at once; otherwise it
        waits for the end of quiet hours. Returns 1 if a survey was opened, 0 if it existed.
        """
        not_before = self.clock.utcnow() if prompted else self.unprompted_at()
        return await self._open_batch([(case_code, chat_id, procedure)], not_before=not_before)

    async def _question_intent(
        self,
        survey: SurveyRow,
        answers: list[AnswerRow],
        *,
        intro: str | None,
        not_before: datetime | None = None,
        procedure: str | None = None,
    ) -> OutboxIntent:
        form = await self.forms.get(survey.version)
        given = {a.question_code: _given(a) for a in answers}
        return question_intent(
            chat_id=survey.chat_id,
            survey_id=survey.id,
            version=survey.version,
            code=survey.current_code,
            position=survey_progress(form, given),
            case_code=survey.case_code,
            intro=intro,
            draft=survey.draft_choices,
            procedure=procedure,
            not_before=not_before,
        )

    async def on_press(self, chat: ChatRef, survey_id: int, code: str, value: str) -> PressResult:
        """A button under a question was pressed."""
        row = await self.chat_row(chat)
        language = row.language
        found = await self.surveys.survey(survey_id)
        if found is None or found[0].chat_id != row.id:
            return PressResult(notice="stale_button", language=language)
        survey, answers = found
        given = {a.question_code: _given(a) for a in answers}
        if survey.status not in OPEN_SURVEY:
            # Answered already (here, on the web or by ZNS): the first to finish wins.
            notice = "survey_answered" if survey.status == "completed" else "survey_closed"
            return PressResult(notice=notice, language=language)
        if code != survey.current_code:
            notice = "already_answered" if code in given else "stale_button"
            return PressResult(notice=notice, language=language)
        form = await self.forms.get(survey.version)
        question = form.question(code)
        if question is None:
            return PressResult(notice="stale_button", language=language)
        try:
            outcome = parse_button(question, value, draft=survey.draft_choices)
        except AnswerError as exc:
            return PressResult(notice=exc.reason, language=language)
        if isinstance(outcome, Toggle):
            await self.surveys.set_draft(survey.id, outcome.choices, now=self.clock.utcnow())
            number, total = survey_progress(form, given)
            return PressResult(
                toggled=(question, outcome.choices, number, total), language=language
            )
        position = survey_progress(form, given)
        recorded = await self._record(survey, form, given, question, outcome)
        if not recorded:
            return PressResult(notice="already_answered", language=language)
        return PressResult(answered=(question, outcome), position=position, language=language)

    async def on_text(self, chat: ChatRef, text: str) -> TextResult | None:
        """A typed message: an answer to the open question, or a polite pointer."""
        row = await self.chat_row(chat)
        if self.on_note is not None and await self.on_note(row.id, text):
            return None
        survey = await self.surveys.survey_awaiting_text(row.id)
        if survey is None:
            await self.say(text_intent(row.id, "no_survey"))
            return None
        found = await self.surveys.survey(survey.id)
        assert found is not None
        survey, answers = found
        form = await self.forms.get(survey.version)
        question = form.question(survey.current_code or "")
        if question is None:
            await self.say(text_intent(row.id, "no_survey"))
            return None
        try:
            outcome = parse_text(question, text)
        except AnswerError as exc:
            about = {"version": survey.version, "code": question.code}
            await self.say(text_intent(row.id, exc.reason, question=about))
            return None
        given = {a.question_code: _given(a) for a in answers}
        if not await self._record(survey, form, given, question, outcome):
            await self.say(text_intent(row.id, "already_answered"))
            return None
        return TextResult(survey.prompt_message_id, (question, outcome), row.language)

    async def awaiting_question(self, chat: ChatRef) -> Awaiting | None:
        """The question a typed message of this chat would answer (numbered options)."""
        row = await self.chat_row(chat)
        survey = await self.surveys.survey_awaiting_text(row.id)
        if survey is None or survey.current_code is None:
            return None
        question = (await self.forms.get(survey.version)).question(survey.current_code)
        if question is None:
            return None
        return Awaiting(survey.id, question, survey.draft_choices, row.language)

    async def on_media(self, chat: ChatRef) -> None:
        """A sticker, photo or other non-text message."""
        row = await self.chat_row(chat)
        survey = await self.surveys.survey_awaiting_text(row.id)
        await self.say(text_intent(row.id, "media" if survey else "no_survey"))

    async def _record(
        self,
        survey: SurveyRow,
        form: Questionnaire,
        given: dict[str, Given],
        question: Question,
        answer: Given,
    ) -> bool:
        after = {**given, question.code: answer}
        following = next_question(form, after)
        if following is None:
            intents = [text_intent(survey.chat_id, "thanks")]
        else:
            intents = [
                question_intent(
                    chat_id=survey.chat_id,
                    survey_id=survey.id,
                    version=survey.version,
                    code=following.code,
                    position=survey_progress(form, after),
                    case_code=survey.case_code,
                    answered=_answered(question, answer, survey_progress(form, given)[0]),
                )
            ]
        recorded = await self.surveys.record_answer(
            survey,
            question_code=question.code,
            value_int=answer.value_int,
            value_text=answer.value_text,
            choices=answer.choices,
            skipped=answer.skipped,
            answered_at=self.clock.local_now(),
            next_code=None if following is None else following.code,
            now=self.clock.utcnow(),
            intents=intents,
        )
        if recorded:
            self.wake()
            if following is None and self.on_completed is not None:
                try:
                    await self.on_completed(survey.id)
                except Exception:
                    # The citizen's answer is stored; an alert failure must not undo that.
                    log.exception("alerting on a completed survey failed")
        return recorded

    # -- background work ---------------------------------------------------------------------

    async def start_due(self) -> int:
        """Open surveys for linked cases that reached the survey status, a batch at a time."""
        started = 0
        while True:
            due = await self.surveys.due_for_start(self.survey_statuses)
            if due:
                started += await self._open_batch(due, not_before=self.unprompted_at())
            if len(due) < START_BATCH:
                return started

    async def _open_batch(self, due: list[tuple[str, int, str]], *, not_before: datetime) -> int:
        """Open surveys for (case code, chat id, procedure name) in one transaction."""
        form = await self.forms.active()
        first = next_question(form, {})
        assert first is not None
        position = survey_progress(form, {})
        procedures = {code: procedure for code, _chat, procedure in due}

        def intents(survey_id: int, case_code: str, chat_id: int) -> list[OutboxIntent]:
            return [
                question_intent(
                    chat_id=chat_id,
                    survey_id=survey_id,
                    version=form.version,
                    code=first.code,
                    position=position,
                    case_code=case_code,
                    intro="invite",
                    procedure=procedures[case_code],
                    not_before=not_before,
                )
            ]

        now = self.clock.utcnow()
        opened = await self.surveys.open_surveys(
            [(code, chat) for code, chat, _procedure in due],
            version=form.version,
            first_code=first.code,
            now=now,
            expires_at=now + self.expiry,
            intents_for=intents,
        )
        if opened:
            log.info("surveys opened", extra={"count": opened, "version": form.version})
            self.wake()
        return opened

    async def remind_and_expire(self) -> tuple[int, int]:
        """Expire old invitations; remind once those unfinished after the reminder delay."""
        now = self.clock.utcnow()
        expired = await self.surveys.expire(now=now)
        reminded = 0
        for survey in await self.surveys.due_reminders(
            invited_before=now - self.reminder_after, now=now
        ):
            found = await self.surveys.survey(survey.id)
            if found is None:
                continue
            intent = await self._question_intent(
                found[0], found[1], intro="reminder", not_before=self.unprompted_at()
            )
            if await self.surveys.remind(survey.id, now=now, intents=[intent]):
                reminded += 1
        if reminded:
            self.wake()
        return expired, reminded


def _answered(question: Question, answer: Given, number: int) -> dict[str, object]:
    """The answered question as the next prompt confirms it (no free text: it may be personal)."""
    return {
        "code": question.code,
        "number": number,
        "value_int": answer.value_int,
        "choices": list(answer.choices or ()),
        "skipped": answer.skipped,
    }
