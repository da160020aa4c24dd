"""Which messages go by ZNS: the channel choice after the chats.

A message to a citizen goes to the chat they linked most recently that can take it, then by
ZNS to the case's phone, then nowhere (the receipt's web link stays). ZNS takes over:

- at the survey status, a case with a phone and no chat that can take the survey (none
  linked, or the linked one blocked us): its survey opens on the case's ZNS chat
  (`source = "zns"`) and the invitation is the template its agency chose (`choices`: the
  `rating` template, or `invite` for the web survey);
- the notices of such a case (result ready, an apology for a new promised date), read from
  the intake inbox through a cursor of their own;
- a message its chat could not carry (`Failed(fallback=True)`: the Zalo OA's reply window is
  closed, the user unfollowed): re-queued on ZNS while the case has a phone; a survey
  invitation moves the survey itself to the ZNS chat.

A chat that opted out (`/stop`) gets nothing by ZNS either. Messages wait for the end of the
quiet hours like every unprompted message. `ZnsRoute.run` is a loop like the survey's, woken
by new intake events; each step is safe on several replicas (unique survey per case, cursor
row locked, outbox dedupe keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.contacts import ContactBook
from bot.survey.engine import next_question
from bot.survey.notices import notice_intents
from bot.survey.service import SurveyService
from bot.zns import CHANNEL
from bot.zns.choices import SurveyChoices
from bot.zns.templates import APOLOGY, APOLOGY_DETAILS, ZnsTemplates, purpose_of
from storage.errors import StorageError
from storage.event_feed import EventForChat
from storage.outbox import ClaimedMessage, OutboxIntent
from storage.zns import DUE_BATCH, CaseIntent, DueCase, ZnsStore
from storage.zns_notices import ZnsNotices

log = logging.getLogger(__name__)

KIND = "zns"  # the outbox kind of a ZNS template message: payload {purpose, case, survey_id}
CURSOR = "case_events:zns_notices"
EVENT_BATCH = 500
MIN_GAP = 0.2  # seconds between passes under a stream of wake-ups


def zns_intent(
    *,
    chat_id: int,
    purpose: str,
    case_code: str,
    dedupe_key: str,
    not_before: datetime | None,
    survey_id: int | None = None,
) -> OutboxIntent:
    """The outbox row of one ZNS template message."""
    payload: dict[str, object] = {"purpose": purpose, "case": case_code}
    if survey_id is not None:
        payload["survey_id"] = survey_id
    return OutboxIntent(
        chat_id=chat_id,
        kind=KIND,
        payload=payload,
        not_before=not_before,
        dedupe_key=dedupe_key,
        survey_id=survey_id,
    )


def _payload(purpose: str, case_code: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """A ZNS row's payload: its purpose and case, and an apology's details (the dates, unit,
    reason and name the chat apology carries: the template's parameters)."""
    payload: dict[str, Any] = {"purpose": purpose, "case": case_code}
    if purpose == APOLOGY:
        payload.update({key: given.get(key) for key in APOLOGY_DETAILS})
    return payload


def _case_code(message: ClaimedMessage) -> str | None:
    """The case a chat message is about (survey rows name `case_code`, notices `code`)."""
    for key in ("case_code", "code", "case"):
        value = message.payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class ZnsRoute:
    """Puts on ZNS what no chat can carry."""

    def __init__(
        self,
        surveys: SurveyService,
        store: ZnsStore,
        contacts: ContactBook,
        templates: ZnsTemplates,
        *,
        choices: SurveyChoices,
        interval: float = 30.0,
    ) -> None:
        self._surveys = surveys
        self._store = store
        self._notices_feed = ZnsNotices(store)
        self._contacts = contacts
        self._templates = templates
        self._choices = choices
        self._interval = interval
        self._wake = asyncio.Event()
        self._notices = bool(templates.get("apology") or templates.get("result_ready"))
        self.opened = 0  # ZNS surveys opened by this process
        self.notices_queued = 0
        self.fallbacks = 0  # chat messages re-queued on ZNS

    @property
    def enabled(self) -> bool:
        """Whether anything can go by ZNS (phones are kept, a template is named)."""
        return self._contacts.enabled and bool(self._templates)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Before the first step: the notices' cursor begins at the newest event."""
        if self.enabled and self._notices:
            await self._notices_feed.start_cursor(CURSOR)

    # -- surveys -----------------------------------------------------------------------------

    async def open_due(self) -> int:
        """Open a ZNS survey for every case due for one, asked the way its agency chose
        (`choices`); how many opened."""
        if self._templates.survey_purpose is None or not self.enabled:
            return 0
        service = self._surveys
        opened = 0
        while True:
            due = await self._store.due_surveys(service.survey_statuses)
            batch = await self._open(due) if due else 0
            opened += batch
            if len(due) < DUE_BATCH or not batch:
                break
        if opened:
            self.opened += opened
            log.info("zns surveys opened", extra={"count": opened})
            service.wake()
        return opened

    async def _open(self, due: Sequence[DueCase]) -> int:
        service = self._surveys
        purposes: dict[str, str] = {}
        for case in due:
            purpose = await self._choices.purpose(case.agency_code)
            if purpose is not None:
                purposes[case.code] = purpose
        form = await service.forms.active()
        first = next_question(form, {})
        assert first is not None
        not_before = service.unprompted_at()

        def intents(survey_id: int, case_code: str, chat_id: int) -> list[OutboxIntent]:
            return [
                zns_intent(
                    chat_id=chat_id,
                    purpose=purposes[case_code],
                    case_code=case_code,
                    survey_id=survey_id,
                    dedupe_key=f"zns:survey:{survey_id}",
                    not_before=not_before,
                )
            ]

        now = service.clock.utcnow()
        return await self._store.open_surveys(
            list(purposes),
            version=form.version,
            first_code=first.code,
            now=now,
            expires_at=now + service.expiry,
            intents_for=intents,
        )

    # -- notices -----------------------------------------------------------------------------

    async def queue_notices(self) -> int:
        """Queue the notices of new intake events for cases ZNS reaches; events read."""
        if not (self._notices and self.enabled):
            return 0
        service = self._surveys
        read = 0
        while True:
            consumed = await self._notices_feed.consume_events(
                cursor=CURSOR,
                limit=EVENT_BATCH,
                build=self._notice_intents,
                now=service.clock.utcnow(),
            )
            read += consumed
            if consumed < EVENT_BATCH:
                return read

    def _notice_intents(self, events: list[EventForChat]) -> list[CaseIntent]:
        """The chat notices these events call for, as ZNS templates (those with one)."""
        service = self._surveys
        found: list[CaseIntent] = []
        for intent in notice_intents(
            events, survey_statuses=service.survey_statuses, not_before=service.unprompted_at()
        ):
            purpose = purpose_of(intent.kind, intent.payload, self._templates)
            code = intent.payload.get("code")
            if purpose is None or self._templates.get(purpose) is None or not code:
                continue
            found.append(
                CaseIntent(
                    case_code=str(code),
                    kind=KIND,
                    payload=_payload(purpose, str(code), intent.payload),
                    not_before=intent.not_before,
                    dedupe_key=f"zns:{intent.dedupe_key}",
                )
            )
        self.notices_queued += len(found)
        return found

    # -- fallback ----------------------------------------------------------------------------

    async def fallback(self, message: ClaimedMessage) -> bool:
        """Re-queue on ZNS a message its chat could not carry; True if it was."""
        if message.channel == CHANNEL or not self.enabled:
            return False
        case_code = _case_code(message)
        if case_code is None or purpose_of(message.kind, message.payload, self._templates) is None:
            return False
        service = self._surveys
        not_before = service.unprompted_at()
        dedupe_key = f"zns:fallback:{message.id}"
        try:
            survey_purpose = None
            if message.kind == "question":
                case = await self._store.case_facts(case_code)
                if case is None:
                    return False
                survey_purpose = await self._choices.purpose(case.agency_code)
            purpose = purpose_of(message.kind, message.payload, self._templates, survey_purpose)
            if purpose is None or self._templates.get(purpose) is None:
                return False
            if await self._contacts.phone(case_code) is None:
                return False
            if message.kind == "question":
                survey_id = message.survey_id
                if survey_id is None:
                    return False

                def intents(chat_id: int) -> list[OutboxIntent]:
                    return [
                        zns_intent(
                            chat_id=chat_id,
                            purpose=purpose,
                            case_code=case_code,
                            survey_id=survey_id,
                            dedupe_key=dedupe_key,
                            not_before=not_before,
                        )
                    ]

                queued = await self._store.take_over_survey(
                    survey_id,
                    case_code=case_code,
                    from_chat_id=message.chat_id,
                    now=service.clock.utcnow(),
                    intents_for=intents,
                )
            else:
                intent = CaseIntent(
                    case_code=case_code,
                    kind=KIND,
                    payload=_payload(purpose, case_code, message.payload),
                    not_before=not_before,
                    dedupe_key=dedupe_key,
                )
                queued = await self._store.queue([intent], now=service.clock.utcnow()) > 0
        except StorageError as exc:
            log.warning("zns fallback failed", extra={"error": str(exc), "outbox_id": message.id})
            return False
        if queued:
            self.fallbacks += 1
            log.info(
                "message re-queued on zns",
                extra={"outbox_id": message.id, "channel": message.channel, "purpose": purpose},
            )
            service.wake()
        return queued

    # -- the loop ----------------------------------------------------------------------------

    async def step(self) -> None:
        """One pass: new events → notices, due cases → surveys."""
        await self.queue_notices()
        await self.open_due()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.step()
            except StorageError as exc:
                log.warning("zns route: database unavailable", extra={"error": str(exc)})
            except Exception:
                log.exception("zns route failed; continuing")
            await asyncio.sleep(MIN_GAP)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)


__all__ = ["CURSOR", "KIND", "ZnsRoute", "zns_intent"]
