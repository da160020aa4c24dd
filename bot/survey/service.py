"""Survey use cases behind the chat channels, channel-neutral.

A channel adapter turns an update into one of the `on_*` calls and renders what comes back.
Everything said to the citizen is queued in the outbox (in the same transaction as the change
it reports) and the dispatcher is woken; only the in-place edit of a pressed question and the
short callback notice are left to the adapter, because they belong to the press itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.channels.inbound import ChatRef
from bot.clock import Clock
from bot.onestop.links import TOKEN_RE, KeyRing, token_hash
from bot.survey.engine import AnswerError, Given, Toggle, next_question, parse_button, parse_text
from bot.survey.engine import progress as survey_progress
from bot.survey.forms import FormCache
from bot.survey.intents import question_intent, text_intent
from bot.survey.questionnaire import Question, Questionnaire, builtin
from scheduler.quiet import next_allowed
from storage.case_links import PHONE, RESTARTABLE, CaseInfo, CaseLinkStore, Restart
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
# What a `/start` payload can be: a deep link carries at most 64 of A-Za-z0-9_-.
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class PressResult:
    """What a button press did, for the adapter to show in place.

    `notice` is a short callback answer; `answered` is the question now answered (with the
    answer) whose message should lose its buttons, asked as number `position[0]` of
    `position[1]`; `toggled` is a multi-choice question whose keyboard should show the picks.
    """

    notice: str | None = None
    answered: tuple[Question, Given] | None = None
    position: tuple[int, int] = (0, 0)
    toggled: tuple[Question, tuple[str, ...], int, int] | None = None
    language: str = "vi"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """The open question a chat's typed message would answer."""

    survey_id: int
    question: Question
    draft: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class TextResult:
    """A typed answer was recorded: the earlier prompt (if known) should lose its buttons."""

    prompt_message_id: str | None
    answered: tuple[Question, Given]
    language: str


def _given(row: AnswerRow) -> Given:
    return Given(
        value_int=row.value_int,
        value_text=row.value_text,
        choices=row.choices,
        skipped=row.skipped,
    )


class SurveyService:
    """The conversation with citizens: linking, surveys, commands."""

    def __init__(
        self,
        *,
        chats: ChatStore,
        links: CaseLinkStore,
        questionnaires: QuestionnaireStore,
        surveys: SurveyStore,
        outbox: OutboxStore,
        clock: Clock,
        link_key: KeyRing,
        survey_statuses: tuple[int, ...],
        reminder_after: timedelta,
        expiry: timedelta,
        quiet_window: tuple[time, time] | None,
        forms: FormCache | None = None,
        wake: Callable[[], None] = lambda: None,
        on_completed: Callable[[int], Awaitable[object]] | None = None,
        on_invite: Callable[[int, str], Awaitable[None]] | None = None,
        on_note: Callable[[int, str], Awaitable[bool]] | None = None,
    ) -> None:
        self.chats = chats
        self.links = links
        self.questionnaires = questionnaires
        self.surveys = surveys
        self.outbox = outbox
        self.forms = forms or FormCache(questionnaires)
        self.clock = clock
        self._keys = link_key
        self.survey_statuses = survey_statuses
        self.reminder_after = reminder_after
        self.expiry = expiry
        self.quiet_window = quiet_window
        self.wake = wake
        # Heads' alerts and role invitations, when the composition root wires them in.
        self.on_completed = on_completed
        self.on_invite = on_invite
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

    async def _chat(self, chat: ChatRef) -> ChatRow:
        language = chat.language if chat.language in LANGUAGES else "vi"
        return await self.chats.chat(
            channel=chat.channel,
            external_id=chat.external_id,
            language=language,
            now=self.clock.utcnow(),
        )

    async def _say(self, *intents: OutboxIntent) -> None:
        await self.outbox.enqueue(list(intents), now=self.clock.utcnow())
        self.wake()

    # -- commands --------------------------------------------------------------------------

    async def on_start(self, chat: ChatRef, payload: str | None) -> None:
        """Welcome a chat, or link the case behind a receipt's payload to it."""
        row = await self._chat(chat)
        if row.opted_out or row.blocked:
            await self.chats.set_chat(
                row.id, now=self.clock.utcnow(), opted_out=False, blocked_at=None
            )
        if not payload:
            await self._say(text_intent(row.id, "welcome", keyboard="contact"))
            return
        if not START_PAYLOAD.fullmatch(payload):
            # Not something the bot ever prints (a deep link's payload is at most 64 of
            # A-Za-z0-9_-): crafted, never looked up.
            await self._say(text_intent(row.id, "link_unknown"))
            return
        if self.on_invite is not None and payload.startswith("i") and len(payload) == 23:
            await self.on_invite(row.id, payload)
            return
        case = (
            await self.links.case_by_token(token_hash(payload), key_ids=self._keys.ids)
            if TOKEN_RE.match(payload)
            else None
        )
        if case is None:
            await self._say(text_intent(row.id, "link_unknown"))
            return
        holder = await self.links.link(case.code, row.id, via="start", now=self.clock.utcnow())
        if holder != row.id:
            await self._say(text_intent(row.id, "link_taken"))
            return
        key = "already_linked" if case.linked_chat == row.id else "linked"
        await self._say(text_intent(row.id, key, code=case.code, procedure=case.procedure_name))
        await self._after_link(case, row.id)

    async def _after_link(self, case: CaseInfo, chat_id: int) -> None:
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
        if survey.chat_id == chat_id and survey.status in OPEN_SURVEY:
            # A survey nobody has answered yet (e.g. just restarted by a takeover) is
            # introduced like an invitation.
            intro = None if answers else "invite"
            await self._say(
                await self._question_intent(
                    survey, answers, intro=intro, procedure=case.procedure_name
                )
            )
        elif survey.status == "expired":
            await self._say(text_intent(chat_id, "link_expired", code=case.code))

    async def on_contact(
        self, chat: ChatRef, phone: str, *, own: bool, private: bool = True
    ) -> None:
        """Link every case filed with the citizen's own phone number, shared in a private
        chat (in a group, the group's members would all follow the cases)."""
        row = await self._chat(chat)
        if not private:
            await self._say(text_intent(row.id, "contact_private"))
            return
        if not own:
            await self._say(text_intent(row.id, "contact_not_own", keyboard="contact"))
            return
        hashed = self._keys.phone_hash(phone)
        cases = await self.links.cases_by_phone(self._keys.phone_hashes(phone)) if hashed else []
        linked: list[CaseInfo] = []
        for case in cases:
            held = await self.link_by_phone(case, row.id)
            if held is not None:
                linked.append(held)
        if hashed:
            await self.chats.set_chat(
                row.id, now=self.clock.utcnow(), phone_hash=hashed.value, phone_key_id=hashed.key_id
            )
        if not linked:
            await self._say(text_intent(row.id, "contact_none", keyboard="remove"))
            return
        codes = ", ".join(case.code for case in linked)
        await self._say(
            text_intent(row.id, "contact_linked", keyboard="remove", count=len(linked), codes=codes)
        )
        for case in linked:
            await self._after_link(case, row.id)

    async def link_by_phone(self, case: CaseInfo, chat_id: int) -> CaseInfo | None:
        """Link a case to a chat that proved the case's phone number (a Telegram contact of
        its own, a phone shared on Zalo); return the case as it is now if the chat holds it.

        A chat that proved the phone takes the case over from a chat that only had the token
        (whoever scanned the receipt first: possibly the officer who printed it). The
        displaced chat is told once, in its own language, and gets nothing more about the
        case: its queued notices and questions are dropped, its buttons for the case answer
        "no longer valid", its typed text no longer reaches the survey.

        The survey, if unfinished (invited, in progress, or stopped by the displaced chat),
        starts again from its first question for the new holder, on the same questionnaire
        version, with a full expiry: the earlier answers are not the citizen's and are
        dropped (their five-level values stay in the link history for integrity checks). A
        survey completed before the takeover is kept — nobody had proved the phone then; the
        history row records the takeover beside it. A chat linked by phone keeps its cases.
        """
        now = self.clock.utcnow()
        restart: Restart | None = None
        if case.survey_id is not None:
            found = await self.surveys.survey(case.survey_id)
            if found is not None and found[0].status in RESTARTABLE:
                form = await self.forms.get(found[0].version)
                first = next_question(form, {})
                if first is not None:
                    restart = Restart(found[0].id, first.code, now + self.expiry)
        notice_at = self.unprompted_at()

        def tell(previous: int) -> list[OutboxIntent]:
            return [text_intent(previous, "link_moved", not_before=notice_at, code=case.code)]

        outcome = await self.links.claim(
            case.code, chat_id, how=PHONE, now=now, restart=restart, tell_previous=tell
        )
        if outcome.holder != chat_id:
            return None
        if outcome.previous is not None:
            log.info(
                "case taken over by phone",
                extra={
                    "chat_id": chat_id,
                    "previous_chat_id": outcome.previous,
                    "survey_restarted": outcome.survey_restarted,
                },
            )
            self.wake()
        return await self.links.case_by_code(case.code) or case

    async def on_stop(self, chat: ChatRef) -> None:
        """Opt the chat out of everything (confirmed); /start opts back in."""
        row = await self._chat(chat)
        await self.chats.opt_out(
            row.id, now=self.clock.utcnow(), intents=[text_intent(row.id, "stopped")]
        )
        self.wake()

    async def on_unsubscribed(self, chat: ChatRef) -> None:
        """The user unfollowed or blocked us: nothing more is sent until they come back."""
        row = await self._chat(chat)
        await self.chats.set_chat(row.id, now=self.clock.utcnow(), blocked_at=self.clock.utcnow())

    async def on_help(self, chat: ChatRef) -> None:
        row = await self._chat(chat)
        await self._say(text_intent(row.id, "help"))

    async def on_language(self, chat: ChatRef, choice: str | None) -> None:
        row = await self._chat(chat)
        wanted = (choice or "").strip().lower()
        if wanted not in LANGUAGES:
            await self._say(text_intent(row.id, "language_usage"))
            return
        await self.chats.set_chat(row.id, now=self.clock.utcnow(), language=wanted)
        await self._say(text_intent(row.id, "language_set"))

    async def on_status(self, chat: ChatRef, code: str | None) -> None:
        """Show a linked case's state; never a case linked to someone else."""
        row = await self._chat(chat)
        mine = await self.links.cases_of_chat(row.id)
        if not code or not code.strip():
            if mine:
                codes = ", ".join(case.code for case in mine)
                await self._say(text_intent(row.id, "status_usage", codes=codes))
            else:
                await self._say(text_intent(row.id, "status_none_linked"))
            return
        wanted = code.strip()
        case = next((c for c in mine if c.code == wanted), None)
        if case is None:
            await self._say(text_intent(row.id, "status_not_linked", code=wanted[:64]))
            return
        await self._say(
            OutboxIntent(
                chat_id=row.id,
                kind="case_status",
                payload={
                    "code": case.code,
                    "procedure": case.procedure_name,
                    "status": case.status,
                    "received": case.received_at.isoformat(),
                    "due": case.due_at.isoformat() if case.due_at else None,
                    "ended": case.ended_at.isoformat() if case.ended_at else None,
                },
            )
        )

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
        row = await self._chat(chat)
        language = row.language
        found = await self.surveys.survey(survey_id)
        if found is None or found[0].chat_id != row.id:
            return PressResult(notice="stale_button", language=language)
        survey, answers = found
        given = {a.question_code: _given(a) for a in answers}
        if survey.status not in OPEN_SURVEY:
            return PressResult(notice="survey_closed", language=language)
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
        row = await self._chat(chat)
        if self.on_note is not None and await self.on_note(row.id, text):
            return None
        survey = await self.surveys.survey_awaiting_text(row.id)
        if survey is None:
            await self._say(text_intent(row.id, "no_survey"))
            return None
        found = await self.surveys.survey(survey.id)
        assert found is not None
        survey, answers = found
        form = await self.forms.get(survey.version)
        question = form.question(survey.current_code or "")
        if question is None:
            await self._say(text_intent(row.id, "no_survey"))
            return None
        try:
            outcome = parse_text(question, text)
        except AnswerError as exc:
            await self._say(text_intent(row.id, exc.reason))
            return None
        given = {a.question_code: _given(a) for a in answers}
        if not await self._record(survey, form, given, question, outcome):
            await self._say(text_intent(row.id, "already_answered"))
            return None
        return TextResult(survey.prompt_message_id, (question, outcome), row.language)

    async def awaiting_question(self, chat: ChatRef) -> Awaiting | None:
        """The question a typed message of this chat would answer (numbered options)."""
        row = await self._chat(chat)
        survey = await self.surveys.survey_awaiting_text(row.id)
        if survey is None or survey.current_code is None:
            return None
        question = (await self.forms.get(survey.version)).question(survey.current_code)
        if question is None:
            return None
        return Awaiting(survey.id, question, survey.draft_choices, row.language)

    async def on_media(self, chat: ChatRef) -> None:
        """A sticker, photo or other non-text message."""
        row = await self._chat(chat)
        survey = await self.surveys.survey_awaiting_text(row.id)
        await self._say(text_intent(row.id, "media" if survey else "no_survey"))

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
