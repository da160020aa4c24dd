"""The intake use case: a verified, valid delivery becomes an inbox row and a case update."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.links import ChannelLinks
from bot.contacts import ContactBook
from bot.onestop.dossier import Dossier, SchemaError, contract_fields
from bot.onestop.links import KeyRing, link_code_hash, token_hash, web_link
from storage.intake import IntakeStore
from storage.intake_records import CaseEventRecord, IntakeOutcome
from storage.models import utcnow

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


def body_digest(body: bytes) -> str:
    """Hex SHA-256 of the raw body: an identical body is the same delivery whatever its key."""
    return hashlib.sha256(body).hexdigest()


def idempotency_key(header: str | None, body: bytes, *, digest: str | None = None) -> str:
    """The delivery's identity: the vendor's key, else the SHA-256 of the raw body (`digest`,
    when the caller has it already)."""
    if header is None:
        return "sha256:" + (digest or body_digest(body))
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

    def __init__(
        self,
        *,
        store: IntakeStore,
        link_key: KeyRing,
        public_url: str,
        links: ChannelLinks,
        on_accepted: Callable[[], None] = lambda: None,
        relink: Callable[[str, str, str, str], Awaitable[None]] | None = None,
        zalo_url: str | None = None,
        contacts: ContactBook | None = None,
    ) -> None:
        self._store = store
        # Seals the applicant's number for ZNS (SIPAS_CONTACT_KEY); None or keyless: hash only.
        self._contacts = contacts
        self._keys = link_key
        # Gives a case a new link when its key was retired: (case, token hash, kid, old kid).
        self._relink = relink
        self._public_url = public_url
        self._links = links
        # `https://zalo.me/<ZALO_OA_ID>` while the OA channel is on (`Settings.zalo_oa_url`).
        self._zalo_url = zalo_url
        # Told when a delivery created a case event (the survey loop wakes on it).
        self._on_accepted = on_accepted

    async def close(self) -> None:
        await self._store.close()

    def links(self, case_code: str, token: str | None = None) -> dict[str, str | None]:
        token = token or self._keys.token(case_code)
        # The receipt's fields (interfaces.md): a chat link once its channel can make one.
        return {
            "telegram": self._links.url("telegram", token),
            "zalo": self._zalo_url,
            "web": web_link(self._public_url, token),
            "qr": f"{web_link(self._public_url, token)}/qr.svg",
        }

    async def accept(
        self, dossier: Dossier, *, key: str, body_sha256: str, payload: dict[str, Any]
    ) -> IntakeReply:
        """Store the delivery once (by `key`, and by `body_sha256`: a replay under a new key is
        a repeat) and answer with the case's links."""
        token = self._keys.token(dossier.case_code)
        record = self._record(
            dossier, key=key, body_sha256=body_sha256, payload=payload, token=token
        )
        outcome = await self._store.record(record)
        kid = outcome.link_key_id
        token = await self._case_token(dossier.case_code, kid, token)
        # The code follows the case's kid like the token (a retired kid: the current key's).
        code_kid = kid if kid is not None and kid in self._keys else None
        code = self._keys.link_code(dossier.case_code, code_kid)
        if outcome.created:
            self._on_accepted()
        return IntakeReply(created=outcome.created, body=self._body(dossier, outcome, token, code))

    async def _case_token(self, case_code: str, kid: str | None, token: str) -> str:
        """The token the case's stored link was made with: an older case keeps its kid's."""
        if kid is None or kid == self._keys.current_id:
            return token
        if kid in self._keys:
            return self._keys.token(case_code, kid)
        if self._relink is not None:
            current = self._keys.current_id
            await self._relink(case_code, token_hash(token), current, kid)
            # The link code moves with the link: the retired key's code stops working.
            code = self._keys.link_code(case_code)
            await self._store.relink_code(case_code, link_code_hash(code), current)
        return token

    def _body(
        self, dossier: Dossier, outcome: IntakeOutcome, token: str, code: str
    ) -> dict[str, Any]:
        return {
            "MaHoSo": dossier.case_code,
            "TrangThaiHoSo": outcome.status,
            "link_code": code,
            "links": self.links(dossier.case_code, token),
        }

    def _record(
        self, dossier: Dossier, *, key: str, body_sha256: str, payload: dict[str, Any], token: str
    ) -> CaseEventRecord:
        hashed = self._keys.phone_hash(dossier.phone) if dossier.phone else None
        hashed_phone = hashed.value if hashed else None
        # The number itself only sealed, and only beside its hash: a delivery whose hash
        # differs replaces it (storage/intake_sql.py).
        sealed_phone = (
            self._contacts.seal(dossier.phone)
            if self._contacts is not None and dossier.phone and hashed
            else None
        )
        # The inbox keeps the contract's fields only (a new dict), and never a raw phone number
        # or e-mail address.
        stored = contract_fields(payload)
        if "SoDienThoai" in stored:
            stored["SoDienThoai"] = f"hmac:{hashed_phone[:16]}" if hashed_phone else None
        if "Email" in stored:
            stored["Email"] = "redacted" if dossier.email else None
        return CaseEventRecord(
            idempotency_key=key,
            body_sha256=body_sha256,
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
            phone_key_id=hashed.key_id if hashed else None,
            # Sealed (`<kid>.<base64>`), never in clear; stored as case_contacts.phone_sealed.
            phone=sealed_phone,
            email=None,  # nothing in the product writes to citizens by e-mail
            link_token_hash=token_hash(token),
            link_key_id=self._keys.current_id,
            link_code_hash=link_code_hash(self._keys.link_code(dossier.case_code)),
            payload=stored,
            recorded_at=utcnow(),
        )
