"""Linking a chat to its cases, channel-neutral: by the receipt's start token, by the link
code printed on the receipt (typed, with wrong codes throttled per chat), by the citizen's own
phone number (with the takeover rules), the hand-off of a role invitation, and the status of
the cases a chat holds.

What follows a link (the survey started or resumed) belongs to the survey service, which this
service is given at construction; everything said is queued through it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.channels.inbound import ChatRef
from bot.heads.invites import is_invite_payload
from bot.onestop.links import TOKEN_RE, KeyRing, extract_link_code, link_code_hash, token_hash
from bot.survey.intents import text_intent
from bot.survey.service import SurveyService
from storage.case_links import PHONE, CaseInfo, CaseLinkStore
from storage.outbox import OutboxIntent

log = logging.getLogger(__name__)
# What a `/start` payload can be: a deep link carries at most 64 of A-Za-z0-9_-.
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Wrong link codes a chat may send in a window before it must wait (a code is one of 31^8).
CODE_TRIES = 5
CODE_WINDOW = timedelta(minutes=15)


class CodeThrottle:
    """Wrong link codes per chat in a sliding window, in this process's memory.

    In memory, not in the database: the throttle only has to make guessing pointless, and a
    code is one of 31^8 (8.5·10^11), so even a counter that a restart or a second replica
    resets leaves a guesser nowhere; it costs no write per wrong code and no table to sweep.
    A chat past its tries is told once to wait, then hears nothing until the window passes.
    """

    def __init__(self, *, tries: int = CODE_TRIES, window: timedelta = CODE_WINDOW) -> None:
        self.tries = tries
        self.window = window
        self._wrong: dict[int, list[datetime]] = {}
        self._warned: set[int] = set()

    def _recent(self, chat_id: int, now: datetime) -> list[datetime]:
        recent = [at for at in self._wrong.get(chat_id, ()) if now - at < self.window]
        if recent:
            self._wrong[chat_id] = recent
        else:
            self._wrong.pop(chat_id, None)
        if len(recent) < self.tries:
            self._warned.discard(chat_id)
        return recent

    def verdict(self, chat_id: int, now: datetime) -> str:
        """ "ok" (look the code up), "warn" (say once to wait) or "silent"."""
        if len(self._recent(chat_id, now)) < self.tries:
            return "ok"
        if chat_id in self._warned:
            return "silent"
        self._warned.add(chat_id)
        return "warn"

    def wrong(self, chat_id: int, now: datetime) -> None:
        self._wrong.setdefault(chat_id, []).append(now)


class CaseLinking:
    """Which chat follows which case: start tokens, phones, takeovers, `/status`."""

    def __init__(
        self,
        *,
        survey: SurveyService,
        links: CaseLinkStore,
        link_key: KeyRing,
        on_invite: Callable[[int, str], Awaitable[None]] | None = None,
    ) -> None:
        self.survey = survey
        self.links = links
        self._keys = link_key
        # Role invitations, when the composition root wires them in.
        self.on_invite = on_invite
        self.code_throttle = CodeThrottle()

    async def on_start(self, chat: ChatRef, payload: str | None) -> None:
        """Welcome a chat, or link the case behind a receipt's payload to it."""
        survey = self.survey
        row = await survey.chat_row(chat)
        if row.opted_out or row.blocked:
            await survey.chats.set_chat(
                row.id, now=survey.clock.utcnow(), opted_out=False, blocked_at=None
            )
        if not payload:
            await survey.say(text_intent(row.id, "welcome", keyboard="contact"))
            return
        if not START_PAYLOAD.fullmatch(payload):
            # Not something the bot ever prints (a deep link's payload is at most 64 of
            # A-Za-z0-9_-): crafted, never looked up.
            await survey.say(text_intent(row.id, "link_unknown"))
            return
        if self.on_invite is not None and is_invite_payload(payload):
            await self.on_invite(row.id, payload)
            return
        case = (
            await self.links.case_by_token(token_hash(payload), key_ids=self._keys.ids)
            if TOKEN_RE.match(payload)
            else None
        )
        if case is None:
            await survey.say(text_intent(row.id, "link_unknown"))
            return
        await self._link_with_receipt(case, row.id, via="start", now=survey.clock.utcnow())

    async def on_link_code(self, chat: ChatRef, code: str) -> None:
        """Link the case whose receipt prints the typed link code (in any form: "mã
        ABCD-EFGH", "abcdefgh"). Like a start token, a code proves the receipt was in hand,
        not the phone: it links a free case and never takes one held by another chat (a
        phone-linked case least of all). Wrong codes are throttled per chat."""
        survey = self.survey
        row = await survey.chat_row(chat)
        now = survey.clock.utcnow()
        verdict = self.code_throttle.verdict(row.id, now)
        if verdict != "ok":
            if verdict == "warn":
                minutes = int(self.code_throttle.window.total_seconds() // 60)
                await survey.say(text_intent(row.id, "link_code_wait", minutes=minutes))
            return
        found = extract_link_code(code)
        case = (
            await self.links.case_by_link_code(link_code_hash(found), key_ids=self._keys.ids)
            if found is not None
            else None
        )
        if case is None:
            self.code_throttle.wrong(row.id, now)
            await survey.say(text_intent(row.id, "link_code_unknown"))
            return
        if row.opted_out or row.blocked:
            # A code sent is a wish to follow the case, as a `/start` is.
            await survey.chats.set_chat(row.id, now=now, opted_out=False, blocked_at=None)
        await self._link_with_receipt(case, row.id, via="link_code", now=now)

    async def _link_with_receipt(
        self, case: CaseInfo, chat_id: int, *, via: str, now: datetime
    ) -> None:
        """Link `case` to the chat on the strength of its receipt (token or code): refused when
        another chat holds it; confirmed, and the survey started or resumed, otherwise."""
        survey = self.survey
        if await self.links.link(case.code, chat_id, via=via, now=now) != chat_id:
            await survey.say(text_intent(chat_id, "link_taken"))
            return
        key = "already_linked" if case.linked_chat == chat_id else "linked"
        await survey.say(text_intent(chat_id, key, code=case.code, procedure=case.procedure_name))
        await survey.after_link(case, chat_id)

    async def on_contact(
        self, chat: ChatRef, phone: str, *, own: bool, private: bool = True
    ) -> None:
        """Link every case filed with the citizen's own phone number, shared in a private
        chat (in a group, the group's members would all follow the cases)."""
        survey = self.survey
        row = await survey.chat_row(chat)
        if not private:
            await survey.say(text_intent(row.id, "contact_private"))
            return
        if not own:
            await survey.say(text_intent(row.id, "contact_not_own", keyboard="contact"))
            return
        hashed = self._keys.phone_hash(phone)
        cases = await self.links.cases_by_phone(self._keys.phone_hashes(phone)) if hashed else []
        linked: list[CaseInfo] = []
        for case in cases:
            held = await self.link_by_phone(case, row.id)
            if held is not None:
                linked.append(held)
        if hashed:
            await survey.chats.set_chat(
                row.id,
                now=survey.clock.utcnow(),
                phone_hash=hashed.value,
                phone_key_id=hashed.key_id,
            )
        if not linked:
            await survey.say(text_intent(row.id, "contact_none", keyboard="remove"))
            return
        codes = ", ".join(case.code for case in linked)
        await survey.say(
            text_intent(row.id, "contact_linked", keyboard="remove", count=len(linked), codes=codes)
        )
        for case in linked:
            await survey.after_link(case, row.id)

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
        survey = self.survey
        now = survey.clock.utcnow()
        restart = None if case.survey_id is None else await survey.restart(case.survey_id)
        notice_at = survey.unprompted_at()

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
            survey.wake()
        return await self.links.case_by_code(case.code) or case

    async def on_status(self, chat: ChatRef, code: str | None) -> None:
        """Show a linked case's state; never a case linked to someone else."""
        survey = self.survey
        row = await survey.chat_row(chat)
        mine = await self.links.cases_of_chat(row.id)
        if not code or not code.strip():
            if mine:
                codes = ", ".join(case.code for case in mine)
                await survey.say(text_intent(row.id, "status_usage", codes=codes))
            else:
                await survey.say(text_intent(row.id, "status_none_linked"))
            return
        wanted = code.strip()
        case = next((c for c in mine if c.code == wanted), None)
        if case is None:
            await survey.say(text_intent(row.id, "status_not_linked", code=wanted[:64]))
            return
        await survey.say(
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
