"""SQLModel tables: the schema of record (Alembic migrations create it; see migrations/).

Conventions:
- Dates that come from one-stop systems (`received_at`, `promised_at`, `event_at`, ...) are local
  wall-clock times of the service's time zone, stored naive, exactly as the contract sends them.
- Times the service itself records (`created_at`, `recorded_at`, `updated_at`) are naive UTC.
- Agencies and procedures are keyed by their national codes so intake can upsert them in the same
  statement as the case.
- Applicant contact data lives in `case_contacts`, apart from everything a head can read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Naive UTC now, the representation of service-recorded times."""
    return datetime.now(UTC).replace(tzinfo=None)


class Agency(SQLModel, table=True):
    """A node of the agency tree (province → department / commune; older data: districts)."""

    __tablename__ = "agencies"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=500)
    parent_code: str | None = Field(
        default=None, foreign_key="agencies.code", index=True, max_length=64
    )
    alert_threshold: float | None = Field(default=None)
    min_sample: int | None = Field(default=None)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class Procedure(SQLModel, table=True):
    """An administrative procedure (TTHC) by its national code `MaTTHC`."""

    __tablename__ = "procedures"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=1000)
    field_code: str | None = Field(default=None, max_length=64)
    field_name: str | None = Field(default=None, max_length=500)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class Officer(SQLModel, table=True):
    """A civil servant named as `NguoiXuLy` by an agency's one-stop system."""

    __tablename__ = "officers"
    __table_args__ = (UniqueConstraint("agency_code", "name", name="uq_officers_agency_name"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    agency_code: str = Field(foreign_key="agencies.code", max_length=64)
    name: str = Field(max_length=255)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class Case(SQLModel, table=True):
    """A case (hồ sơ) and its current state, derived from the newest event by event time."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    code: str = Field(max_length=64, unique=True)
    agency_code: str = Field(foreign_key="agencies.code", index=True, max_length=64)
    procedure_code: str = Field(foreign_key="procedures.code", index=True, max_length=64)
    officer_name: str | None = Field(default=None, max_length=255)
    processing_unit: str | None = Field(default=None, max_length=500)
    channel: int | None = Field(default=None)
    applicant_type: int | None = Field(default=None)
    status: int
    received_at: NaiveDatetime = Field(index=True)
    promised_at: NaiveDatetime | None = Field(default=None)
    promised_new_at: NaiveDatetime | None = Field(default=None)
    due_at: NaiveDatetime | None = Field(default=None, index=True)
    finished_at: NaiveDatetime | None = Field(default=None)
    returned_at: NaiveDatetime | None = Field(default=None)
    end_event_at: NaiveDatetime | None = Field(default=None)
    ended_at: NaiveDatetime | None = Field(default=None, index=True)
    timeliness: str | None = Field(default=None, max_length=16)
    state_at: NaiveDatetime
    events_count: int = Field(default=1)
    link_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class CaseContact(SQLModel, table=True):
    """How to reach the applicant: never joined into anything a head reads."""

    __tablename__ = "case_contacts"

    case_code: str = Field(primary_key=True, foreign_key="cases.code", max_length=64)
    applicant_name: str | None = Field(default=None, max_length=500)
    phone_hash: str | None = Field(default=None, index=True, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class CaseEvent(SQLModel, table=True):
    """The intake inbox: every distinct delivery, stored once by its idempotency key."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    idempotency_key: str = Field(max_length=200, unique=True)
    case_code: str = Field(index=True, max_length=64)
    status: int
    event_at: NaiveDatetime
    recorded_at: NaiveDatetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(), nullable=False)
    )
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class ServiceSecret(SQLModel, table=True):
    """Keys the service generates for itself when none is configured (link tokens, hashes)."""

    __tablename__ = "service_secrets"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
