"""What a stored delivery is: the validated record going in and the outcome coming back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Statuses that end a case for timeliness (domain.md §3): refused, stopped, finished, returned,
# plus withdrawn (7), which stops the clock like a stop.
END_STATUSES = frozenset({3, 7, 8, 9, 10})


@dataclass(slots=True, kw_only=True)
class CaseEventRecord:
    """A validated delivery, ready to store. Dates are naive local times.

    Treated as immutable; not declared frozen because a frozen dataclass of this size costs
    3 µs more to build, on every delivery."""

    idempotency_key: str
    # Hex SHA-256 of the raw body: unique in the inbox, so a replay under a new key is a repeat.
    body_sha256: str
    case_code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    field_code: str | None
    field_name: str | None
    officer_name: str | None
    processing_unit: str | None
    channel: int | None
    applicant_type: int | None
    status: int
    received_at: datetime
    promised_at: datetime | None
    promised_new_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    event_at: datetime
    applicant_name: str | None
    phone_hash: str | None
    phone_key_id: str | None
    phone: str | None
    email: str | None
    link_token_hash: str
    link_key_id: str
    # Hash of the link code under `link_key_id` (kept only while the case's kid is that one).
    link_code_hash: str
    payload: dict[str, Any]
    recorded_at: datetime

    @property
    def has_contact(self) -> bool:
        return any((self.applicant_name, self.phone_hash, self.phone, self.email))


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """What a delivery did: `created` is False for a repeated delivery."""

    created: bool
    status: int
    # The kid the case's link token was made with; None when the store did not know the case.
    link_key_id: str | None = None


__all__ = ["END_STATUSES", "CaseEventRecord", "IntakeOutcome"]
