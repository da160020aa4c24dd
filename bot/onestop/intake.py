"""The intake use case: a verified, valid delivery becomes an inbox row and a case update."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.onestop.dossier import Dossier, SchemaError
from bot.onestop.links import case_token, phone_hash, telegram_link, token_hash, web_link
from storage.intake import CaseEventRecord, IntakeOutcome, IntakeStore
from storage.models import utcnow

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


def idempotency_key(header: str | None, body: bytes) -> str:
    """The delivery's identity: the vendor's key, else the SHA-256 of the raw body."""
    if header is None:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    key = header.strip()
    if not _KEY_RE.match(key):
        raise SchemaError(
            "invalid Idempotency-Key header",
            {"Idempotency-Key": "must be 1–200 printable ASCII characters"},
        )
    return "key:" + key


@dataclass(frozen=True, slots=True)
class IntakeReply:
    created: bool
    body: dict[str, Any]


class IntakeService:
    """Turns dossiers into stored events and answers with the citizen's links."""

    def __init__(self, *, store: IntakeStore, link_key: bytes, public_url: str) -> None:
        self._store = store
        self._key = link_key
        self._public_url = public_url
        self.telegram_username: str | None = None
        self.on_accepted: Callable[[], None] = lambda: None

    async def close(self) -> None:
        await self._store.close()

    def links(self, case_code: str, token: str | None = None) -> dict[str, str | None]:
        token = token or case_token(self._key, case_code)
        username = self.telegram_username
        return {
            "telegram": telegram_link(username, token) if username else None,
            "zalo": None,
            "web": web_link(self._public_url, token),
        }

    async def accept(self, dossier: Dossier, *, key: str, payload: dict[str, Any]) -> IntakeReply:
        token = case_token(self._key, dossier.case_code)
        record = self._record(dossier, key=key, payload=payload, token=token)
        outcome = await self._store.record(record)
        if outcome.created:
            self.on_accepted()
        return IntakeReply(created=outcome.created, body=self._body(dossier, outcome, token))

    def _body(self, dossier: Dossier, outcome: IntakeOutcome, token: str) -> dict[str, Any]:
        return {
            "MaHoSo": dossier.case_code,
            "TrangThaiHoSo": outcome.status,
            "links": self.links(dossier.case_code, token),
        }

    def _record(
        self, dossier: Dossier, *, key: str, payload: dict[str, Any], token: str
    ) -> CaseEventRecord:
        hashed_phone = phone_hash(self._key, dossier.phone) if dossier.phone else None
        # The inbox keeps the delivery, but never a raw phone number or e-mail address.
        stored = payload
        if "SoDienThoai" in payload or "Email" in payload:
            stored = dict(payload)
            if "SoDienThoai" in stored:
                stored["SoDienThoai"] = f"hmac:{hashed_phone[:16]}" if hashed_phone else None
            if "Email" in stored:
                stored["Email"] = "redacted" if dossier.email else None
        return CaseEventRecord(
            idempotency_key=key,
            case_code=dossier.case_code,
            agency_code=dossier.agency_code,
            agency_name=dossier.agency_name or dossier.agency_code,
            procedure_code=dossier.procedure_code,
            procedure_name=dossier.procedure_name,
            field_code=dossier.field_code,
            field_name=dossier.field_name,
            officer_name=dossier.officer_name,
            processing_unit=dossier.processing_unit,
            channel=dossier.channel,
            applicant_type=dossier.applicant_type,
            status=dossier.status,
            received_at=dossier.received_at,
            promised_at=dossier.promised_at,
            promised_new_at=dossier.promised_new_at,
            finished_at=dossier.finished_at,
            returned_at=dossier.returned_at,
            event_at=dossier.event_at,
            applicant_name=dossier.applicant_name,
            phone_hash=hashed_phone,
            phone=None,
            email=dossier.email,
            link_token_hash=token_hash(token),
            payload=stored,
            recorded_at=utcnow(),
        )
