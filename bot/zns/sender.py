"""The outbox dispatcher's `Sender` for channel "zns": a claimed row becomes one approved
template message to the case's phone.

A ZNS message is a template, not a rendered text: the row names its purpose (`templates.
purpose_of`; a survey's invitation or reminder goes as the template the case's agency chose,
`choices`), the case comes from the ZNS chat (`case:<code>`), the template's parameters from
the case row (an `invite` carries the case's web-link token, an apology its outbox payload's
details) and the phone from the sealed contact, opened here and sent to Zalo only. All reads
are made in `prepare`, before the dispatcher gives the row a slot of the rate. Zalo's
answers:

- accepted: `Sent(msg_id)` of cost class `zns`; `data.quota` is kept for /metrics and the
  message is counted for the case's agency and the local month (ZNS is billed per message);
- `-144` (today's quota is spent): `RetryLater` until the next local midnight (or the end of
  the quiet hours it falls in); until then no other row calls Zalo, they wait the same way,
  and the dispatcher sends the oldest first once the day turns;
- `-108` (not a valid phone) and `-118` (no Zalo account): `Failed`, and the case's ZNS chat
  is marked blocked so that case is never tried by ZNS again;
- `-124` after the client's one retry with a renewed token, timeouts, 5xx: `RetryLater`;
- anything else Zalo refuses (an unknown template, a parameter it will not take): `Failed`.

`ZnsOutlet` registers the sender with the composition root as the "zns" outlet: a `Channel`
(nothing can be sent to it as a view) that provides its own outbox `Sender`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta

from bot.channels.base import (
    COST_ZNS,
    OUTCOMES,
    Capabilities,
    Failed,
    Limits,
    MessageView,
    RetryLater,
    SendOutcome,
    Sent,
    Transmit,
)
from bot.contacts import ContactBook
from bot.onestop.links import KeyRing
from bot.zalo_oa.tokens import TokensDead
from bot.zns import CHANNEL, case_of
from bot.zns.choices import SurveyChoices
from bot.zns.client import (
    DAILY_QUOTA_EXCEEDED,
    FINAL_FOR_CASE,
    INVALID_TOKEN,
    Quota,
    ZnsAnswer,
    ZnsClient,
    ZnsUnavailable,
)
from bot.zns.templates import INVITE, CaseFacts, ZnsTemplates, purpose_of, template_data
from scheduler.quiet import next_allowed
from storage.channel_state import BillableStore
from storage.chats import ChatStore
from storage.errors import StorageError
from storage.outbox import ClaimedMessage
from storage.zns import ZnsStore

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    max_buttons=0, edits_in_place=False, command_menus=False, text_limit=0, receives=False
)
# While the OA's token pair is dead nothing can go out; rows wait for a restart with a new pair.
TOKEN_DEAD = RetryLater("token dead", after=3600.0)
MESSAGE_ID_LIMIT = 32  # outbox.external_message_id

QuietWindow = Callable[[], "tuple[time, time] | None"]


class ZnsSender:
    """Sends the outbox's ZNS rows."""

    channel = CHANNEL

    def __init__(
        self,
        client: ZnsClient,
        templates: ZnsTemplates,
        *,
        contacts: ContactBook,
        store: ZnsStore,
        chats: ChatStore,
        billable: BillableStore,
        now: Callable[[], datetime],
        local_now: Callable[[], datetime],
        to_utc: Callable[[datetime], datetime],
        quiet_window: QuietWindow = lambda: None,
        choices: SurveyChoices | None = None,
        links: KeyRing | None = None,
    ) -> None:
        self._client = client
        self._choices = choices  # the agency's survey choice, for survey rows
        self._links = links  # SIPAS_SECRET_KEY: the web link an `invite` opens
        self._templates = templates
        self._contacts = contacts
        self._store = store
        self._chats = chats
        self._billable = billable
        self._now = now
        self._local_now = local_now
        self._to_utc = to_utc
        self._quiet_window = quiet_window
        self._quota_until: datetime | None = None  # UTC: no send before this (-144)
        self.quota: Quota | None = None  # from the latest accepted send
        self.sent: Counter[str] = Counter()  # accepted messages by purpose
        self.final = 0  # cases ZNS can never reach (-108, -118, no phone)
        self.quota_refusals = 0  # -144 answers

    async def send(self, message: ClaimedMessage) -> SendOutcome:
        ready = await self.prepare(message)
        return ready if isinstance(ready, OUTCOMES) else await ready()

    async def prepare(self, message: ClaimedMessage) -> SendOutcome | Transmit:
        """The reads a send needs (the case, its agency's survey choice, the sealed phone),
        made before the dispatcher gives the row a slot of the rate: the outcome when nothing
        may go, else the call to Zalo left to make."""
        case_code = case_of(message.external_id)
        if case_code is None:
            return Failed("not a case's ZNS chat")
        waiting = self._quota_wait()
        if waiting is not None:
            return waiting
        try:
            found = await self._store.case_facts(case_code)
            if found is None:
                return Failed("the case is gone")
            survey = None
            if message.kind == "question" and self._choices is not None:
                survey = await self._choices.purpose(found.agency_code)
            purpose = purpose_of(message.kind, message.payload, self._templates, survey)
            if purpose is None:
                return Failed(f"ZNS carries no {message.kind!r} message")
            template_id = self._templates.get(purpose)
            if template_id is None:
                return Failed(f"no ZNS template for {purpose} (ZALO_ZNS_TEMPLATES)")
            phone = await self._contacts.phone(case_code)
        except StorageError as exc:
            return RetryLater(f"database: {exc}"[:200])
        if phone is None:
            return await self._final(message, "no phone number is kept for the case")
        web_token: str | None = None
        if purpose == INVITE:
            web_token = self._web_token(found.code, found.link_key_id)
            if web_token is None:
                return Failed("the case's web link was made with a key no longer configured")
        facts = CaseFacts(
            code=found.code,
            procedure_name=found.procedure_name,
            agency_name=found.agency_name,
            agency_code=found.agency_code,
            returned_at=found.returned_at,
            end_event_at=found.end_event_at,
            finished_at=found.finished_at,
            web_token=web_token,
        )
        data = template_data(
            purpose, facts, today=self._local_now().date(), details=message.payload
        )

        async def transmit() -> SendOutcome:
            waiting = self._quota_wait()
            if waiting is not None:
                return waiting
            try:
                answer = await self._client.send_template(
                    phone=phone,
                    template_id=template_id,
                    template_data=data,
                    tracking_id=self._tracking_id(message),
                )
            except TokensDead:
                return TOKEN_DEAD
            except ZnsUnavailable as exc:
                return RetryLater(str(exc)[:200])
            return await self._outcome(message, purpose, found.agency_code, answer)

        return transmit

    def _web_token(self, case_code: str, key_id: str | None) -> str | None:
        """The token of the case's web link (None: its key is no longer configured)."""
        links = self._links
        if links is None or not links:
            return None
        if key_id is not None and key_id not in links:
            return None
        return links.token(case_code, key_id)

    @staticmethod
    def _tracking_id(message: ClaimedMessage) -> str:
        """The survey's id for a survey invitation (its rating comes back with it), else the
        outbox row's (`n<id>`); at most 48 characters either way."""
        survey_id = message.survey_id
        if survey_id is None:
            raw = message.payload.get("survey_id")
            survey_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        return str(survey_id) if survey_id is not None else f"n{message.id}"

    async def _outcome(
        self, message: ClaimedMessage, purpose: str, agency_code: str, answer: ZnsAnswer
    ) -> SendOutcome:
        if answer.ok:
            return await self._accepted(purpose, agency_code, answer)
        reason = f"zns {answer.error}: {answer.message}"[:200]
        fields = {"outbox_id": message.id, "purpose": purpose, "error": answer.error}
        if answer.error == DAILY_QUOTA_EXCEEDED:
            self.quota_refusals += 1
            self._quota_until = self._next_day()
            log.warning("zns daily quota spent: waiting for the next day", extra=fields)
            waiting = self._quota_wait()
            after = None if waiting is None else waiting.after
            return RetryLater(f"{reason} (until the next day)", after=after)
        if answer.error in FINAL_FOR_CASE:
            log.info("zns cannot reach the case's phone", extra=fields)
            return await self._final(message, reason)
        if answer.error == INVALID_TOKEN:
            return RetryLater(f"{reason} (after a refresh)")
        log.warning("zns refused a message", extra=fields)
        return Failed(reason)

    async def _accepted(self, purpose: str, agency_code: str, answer: ZnsAnswer) -> SendOutcome:
        self.sent[purpose] += 1
        if answer.quota is not None:
            self.quota = answer.quota
        month = self._local_now().strftime("%Y-%m")
        try:
            await self._billable.add_for_agency(CHANNEL, agency_code, month=month)
        except StorageError as exc:
            # The message went out: a lost count must not make the outbox send it again.
            log.warning("could not count a zns message", extra={"error": str(exc)})
        msg_id = answer.msg_id
        return Sent(None if msg_id is None else msg_id[:MESSAGE_ID_LIMIT], COST_ZNS)

    async def _final(self, message: ClaimedMessage, reason: str) -> SendOutcome:
        """The case can never be reached by ZNS: its ZNS chat is blocked for good."""
        self.final += 1
        try:
            now = self._now()
            await self._chats.set_chat(message.chat_id, now=now, blocked_at=now)
        except StorageError as exc:
            log.warning("could not mark a zns chat unreachable", extra={"error": str(exc)})
        return Failed(reason)

    def _next_day(self) -> datetime:
        """The next local midnight, or the end of the quiet hours it falls in (UTC)."""
        local = self._local_now()
        midnight = datetime.combine(local.date() + timedelta(days=1), time())
        return self._to_utc(next_allowed(midnight, self._quiet_window()))

    def _quota_wait(self) -> RetryLater | None:
        """`RetryLater` until the quota comes back, while it is spent."""
        until = self._quota_until
        if until is None:
            return None
        left = (until - self._now()).total_seconds()
        if left <= 0:
            self._quota_until = None
            return None
        return RetryLater("zns daily quota spent", after=left)


class ZnsOutlet:
    """The "zns" outlet: a send-only `Channel` whose outbox rows go through `ZnsSender`."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, sender: ZnsSender, limits: Limits) -> None:
        self._sender = sender
        self.limits = limits

    def outbox_sender(self) -> ZnsSender:
        return self._sender

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        """A view cannot go by ZNS (templates only)."""
        return Failed("ZNS sends approved templates only")

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        return False


__all__ = ["CAPABILITIES", "TOKEN_DEAD", "ZnsOutlet", "ZnsSender"]
