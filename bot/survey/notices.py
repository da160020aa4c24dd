"""Status notices and apologies derived from the intake inbox, and the loop that runs them.

A notice goes to the chat following a case when an event moves the case to accepted (2),
supplement requested (5), fees due (6), result ready (9) or returned (10) — once per case and
status. An apology (domain.md §4) goes once per new promised date. The survey status itself
gets the survey invitation instead of a notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.survey.service import SurveyService
from storage.errors import StorageError
from storage.event_feed import EventFeed, EventForChat
from storage.outbox import OutboxIntent

log = logging.getLogger(__name__)
NOTICE_STATUSES = frozenset({2, 5, 6, 9, 10})
CURSOR = "case_events:notices"
MIN_GAP = 0.2


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def _moved_due(event: EventForChat) -> dict[str, object] | None:
    """The supplement of this event that set the case's current promised date, if any."""
    supplements = event.payload.get("DanhSachHoSoBoSung")
    if event.promised_new_at is None or not isinstance(supplements, list):
        return None
    wanted = event.promised_new_at.strftime("%Y%m%d%H%M%S")
    for item in supplements:
        if isinstance(item, dict) and str(item.get("NgayHenTraMoi", "")).strip() == wanted:
            return item
    return None


def notice_intents(
    events: Sequence[EventForChat], *, survey_statuses: tuple[int, ...], not_before: object
) -> list[OutboxIntent]:
    """The notices and apologies a batch of events calls for (deduplicated by key)."""
    intents: list[OutboxIntent] = []
    for event in events:
        current = event.event_status == event.case_status
        if current and event.event_status in NOTICE_STATUSES:
            if event.event_status not in survey_statuses:
                intents.append(
                    OutboxIntent(
                        chat_id=event.chat_id,
                        kind="notice",
                        not_before=not_before,  # type: ignore[arg-type]
                        dedupe_key=f"notice:{event.case_code}:{event.event_status}",
                        payload={
                            "status": event.event_status,
                            "code": event.case_code,
                            "procedure": event.procedure_name,
                            "due": _iso(event.due_at),
                        },
                    )
                )
        supplement = _moved_due(event)
        if supplement is not None and event.promised_new_at is not None:
            old = str(supplement.get("NgayHenTraTruoc") or "").strip()
            reason = supplement.get("LyDo")
            intents.append(
                OutboxIntent(
                    chat_id=event.chat_id,
                    kind="apology",
                    not_before=not_before,  # type: ignore[arg-type]
                    dedupe_key=f"apology:{event.case_code}:{event.promised_new_at:%Y%m%d%H%M}",
                    payload={
                        "code": event.case_code,
                        "procedure": event.procedure_name,
                        "name": event.applicant_name,
                        "agency": event.agency_name,
                        "unit": event.processing_unit,
                        "received": _iso(event.received_at),
                        "old_due": (
                            f"{old[:4]}-{old[4:6]}-{old[6:8]}"
                            if len(old) >= 8 and old[:8].isdigit()
                            else _iso(event.promised_at)
                        ),
                        "new_due": _iso(event.promised_new_at),
                        "reason": reason if isinstance(reason, str) else None,
                    },
                )
            )
    return intents


class SurveyLoop:
    """Background work of the survey side: notices, survey starts, reminders, expiry."""

    def __init__(
        self,
        service: SurveyService,
        feed: EventFeed,
        *,
        interval: float = 2.0,
        sweep_interval: float = 900.0,
    ) -> None:
        self._service = service
        self._feed = feed
        self._interval = interval
        self._sweep_interval = sweep_interval
        self._wake = asyncio.Event()
        self._seeded = False

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> None:
        """One pass: events → notices, due surveys → invitations."""
        service = self._service
        if not self._seeded:
            await service.ensure_form()
            self._seeded = True
        queued = False
        while True:
            consumed = await self._feed.consume_events(
                cursor=CURSOR,
                limit=500,
                build=lambda events: notice_intents(
                    events,
                    survey_statuses=service.survey_statuses,
                    not_before=service.unprompted_at(),
                ),
                now=service.clock.utcnow(),
            )
            queued = queued or consumed > 0
            if consumed < 500:
                break
        if await service.start_due() or queued:
            service.wake()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.step()
                if loop.time() >= next_sweep:
                    expired, reminded = await self._service.remind_and_expire()
                    if expired or reminded:
                        log.info("survey sweep", extra={"expired": expired, "reminded": reminded})
                    next_sweep = loop.time() + self._sweep_interval
            except StorageError as exc:
                log.warning("survey loop: database unavailable", extra={"error": str(exc)})
            except Exception:
                log.exception("survey loop failed; continuing")
            # Under a stream of deliveries, wake-ups are batched: at most five passes a second.
            await asyncio.sleep(MIN_GAP)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
