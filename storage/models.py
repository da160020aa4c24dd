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

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.columns import BigId, utcnow


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
    # How ZNS asks this agency's citizens: "rating" (stars), "invite" (the web survey), or
    # None (the parent's choice, else the rating template).
    zns_survey: str | None = Field(default=None, max_length=16)
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
    # Which SIPAS_SECRET_KEY entry made the link token (see bot/onestop/links.py).
    link_key_id: str | None = Field(default=None, max_length=16)
    # SHA-256 of the receipt's link code (made with `link_key_id`); not unique: two cases may
    # share a code, and a lookup then refuses it (bot/onestop/links.py).
    link_code_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class CaseContact(SQLModel, table=True):
    """How to reach the applicant: never joined into anything a head reads."""

    __tablename__ = "case_contacts"

    case_code: str = Field(primary_key=True, foreign_key="cases.code", max_length=64)
    applicant_name: str | None = Field(default=None, max_length=500)
    phone_hash: str | None = Field(default=None, index=True, max_length=64)
    phone_key_id: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    # The phone in `84…` form sealed with SIPAS_CONTACT_KEY (bot/contacts.py), kept while ZNS
    # may need it and purged after the retention (storage/contacts.py); `phone` stays NULL.
    phone_sealed: str | None = Field(default=None, max_length=200)


class CaseEvent(SQLModel, table=True):
    """The intake inbox: every distinct delivery, stored once by its idempotency key and once by
    its raw body (`body_sha256`, hex SHA-256: a body replayed under a new key is no new event;
    NULL for rows stored before migration 0009 under a vendor's key). `payload` keeps only the
    contract's fields (bot/onestop/dossier.py `contract_fields`), phone and e-mail masked."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    idempotency_key: str = Field(max_length=200, unique=True)
    body_sha256: str | None = Field(default=None, max_length=64, unique=True, index=True)
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


class Chat(SQLModel, table=True):
    """A chat on a channel (a Telegram private chat) that the bot may write to."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_chats_channel_ext"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    language: str = Field(default="vi", max_length=8)
    opted_out: bool = Field(default=False)
    blocked_at: NaiveDatetime | None = Field(default=None)
    phone_hash: str | None = Field(default=None, max_length=64)
    phone_key_id: str | None = Field(default=None, max_length=16)
    # An alert this chat (a head) is writing a "handled" note for.
    pending_note_alert: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    # The Telegram name of a chat holding a role (admins read it in /nguoi and /audit);
    # never stored for citizens.
    display_name: str | None = Field(default=None, max_length=200)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class CaseLink(SQLModel, table=True):
    """A case followed by a chat (one chat per case; a chat may follow several cases).

    `via` is how the chat holds it: "token" (the receipt's link or code — whoever had the
    receipt) or "phone" (the chat proved the case's phone number; it takes a case over from
    a token holder, and a token holder cannot take it back).
    """

    __tablename__ = "case_links"

    case_code: str = Field(primary_key=True, foreign_key="cases.code", max_length=64)
    chat_id: int = Field(
        sa_column=Column(BigId, ForeignKey("chats.id"), nullable=False, index=True)
    )
    via: str = Field(max_length=16)
    linked_at: NaiveDatetime = Field(default_factory=utcnow)


class CaseLinkEvent(SQLModel, table=True):
    """Append-only history of `case_links`: every link, phone confirmation and takeover.

    `kind`: "link" (a case's first chat), "confirm" (the holder proved the phone too) or
    "takeover" (a chat that proved the phone took the case from `previous_chat_id`, which only
    had the token). `how`: "token" | "phone". `discarded` lists the five-level answers the
    previous chat had given in an unfinished survey, dropped by the takeover, as
    `[[question_code, value], ...]` (no free text). `at` is naive UTC.
    """

    __tablename__ = "case_link_history"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    case_code: str = Field(foreign_key="cases.code", index=True, max_length=64)
    chat_id: int = Field(sa_column=Column(BigId, ForeignKey("chats.id"), nullable=False))
    kind: str = Field(max_length=16)
    how: str = Field(max_length=8)
    previous_chat_id: int | None = Field(
        default=None, sa_column=Column(BigId, ForeignKey("chats.id"), nullable=True)
    )
    discarded: list[list[Any]] | None = Field(default=None, sa_column=Column(JSON))
    at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class QuestionnaireVersion(SQLModel, table=True):
    """A stored questionnaire: the one draft, the active version, and retired ones."""

    __tablename__ = "questionnaires"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    version: int | None = Field(default=None, unique=True)
    status: str = Field(max_length=16, index=True)
    base: str = Field(max_length=16)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    published_at: NaiveDatetime | None = Field(default=None)


class Survey(SQLModel, table=True):
    """One survey response per case; its state lives here, not in memory.

    `invited_at`, `reminded_at`, `expires_at`, `completed_at` are naive UTC.
    """

    __tablename__ = "surveys"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    case_code: str = Field(foreign_key="cases.code", unique=True, max_length=64)
    # None for responses imported from paper, kiosk or portal surveys.
    chat_id: int | None = Field(
        default=None, sa_column=Column(BigId, ForeignKey("chats.id"), nullable=True, index=True)
    )
    source: str = Field(default="telegram", max_length=16)
    questionnaire_version: int
    status: str = Field(max_length=16, index=True)
    current_code: str | None = Field(default=None, max_length=24)
    prompt_message_id: str | None = Field(default=None, max_length=32)
    draft_choices: list[str] | None = Field(default=None, sa_column=Column(JSON))
    invited_at: NaiveDatetime = Field(default_factory=utcnow)
    started_at: NaiveDatetime | None = Field(default=None)
    completed_at: NaiveDatetime | None = Field(default=None)
    reminded_at: NaiveDatetime | None = Field(default=None)
    expires_at: NaiveDatetime = Field(index=True)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class Answer(SQLModel, table=True):
    """One answer to one question; `answered_at` is local wall-clock time (reports use it)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("survey_id", "question_code", name="uq_answers_q"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    survey_id: int = Field(sa_column=Column(BigId, ForeignKey("surveys.id"), nullable=False))
    question_code: str = Field(max_length=24)
    value_int: int | None = Field(default=None)
    value_text: str | None = Field(default=None, max_length=4000)
    choices: list[str] | None = Field(default=None, sa_column=Column(JSON))
    skipped: bool = Field(default=False)
    answered_at: NaiveDatetime = Field(index=True)


class OutboxMessage(SQLModel, table=True):
    """Everything the bot sends is a row here first (an intent, rendered when sent).

    Times are naive UTC. `status`: pending → sending → sent | failed | blocked.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    chat_id: int = Field(
        sa_column=Column(BigId, ForeignKey("chats.id"), nullable=False, index=True)
    )
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    not_before: NaiveDatetime = Field(default_factory=utcnow)
    claimed_until: NaiveDatetime | None = Field(default=None)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    dedupe_key: str | None = Field(default=None, max_length=160, unique=True)
    survey_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    external_message_id: str | None = Field(default=None, max_length=32)
    # What the send cost (set when sent): "free", "oa_billable" or "zns" (bot.channels.base).
    cost_class: str | None = Field(default=None, max_length=16)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    sent_at: NaiveDatetime | None = Field(default=None)


class OutboxAttempt(SQLModel, table=True):
    """The outcome of every send attempt (sent, retry, blocked, failed)."""

    __tablename__ = "outbox_attempts"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    outbox_id: int = Field(sa_column=Column(BigId, nullable=False, index=True))
    outcome: str = Field(max_length=16)
    detail: str | None = Field(default=None, max_length=500)
    at: NaiveDatetime = Field(default_factory=utcnow)


class Cursor(SQLModel, table=True):
    """How far a background reader has consumed an append-only table."""

    __tablename__ = "cursors"

    name: str = Field(primary_key=True, max_length=64)
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one period: the unique key makes it run once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_runs_job_period"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    job: str = Field(max_length=64)
    period: str = Field(max_length=32)
    status: str = Field(default="running", max_length=16)
    detail: str | None = Field(default=None, max_length=1000)
    started_at: NaiveDatetime = Field(default_factory=utcnow)
    finished_at: NaiveDatetime | None = Field(default=None)


class DailyScore(SQLModel, table=True):
    """Counts of five-level answers per local day and group; re-scoring a day replaces it."""

    __tablename__ = "daily_scores"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "agency_code",
            "procedure_code",
            "officer_name",
            "question_code",
            name="uq_daily_scores_key",
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    day: date = Field(index=True)
    agency_code: str = Field(max_length=64, index=True)
    procedure_code: str = Field(max_length=64)
    officer_name: str = Field(default="", max_length=255)
    question_code: str = Field(max_length=24)
    factor: int | None = Field(default=None)
    n1: int = Field(default=0)
    n2: int = Field(default=0)
    n3: int = Field(default=0)
    n4: int = Field(default=0)
    n5: int = Field(default=0)


class RoleInvite(SQLModel, table=True):
    """A one-time invite link granting a role (a head of an agency, an inspector, an admin)."""

    __tablename__ = "role_invites"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    agency_code: str | None = Field(default=None, foreign_key="agencies.code", max_length=64)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = Field(default=None)
    used_by_chat_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))


class RoleGrant(SQLModel, table=True):
    """A chat holding a role; `agency_code` is '' for roles without an agency."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("chat_id", "role", "agency_code", name="uq_role_grants"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    chat_id: int = Field(sa_column=Column(BigId, ForeignKey("chats.id"), nullable=False))
    role: str = Field(max_length=16)
    agency_code: str = Field(default="", max_length=64, index=True)
    granted_at: NaiveDatetime = Field(default_factory=utcnow)
    revoked_at: NaiveDatetime | None = Field(default=None)


class Alert(SQLModel, table=True):
    """An alert to agency heads and its closed loop (acknowledged, handled, escalated).

    Times are naive UTC; `payload` holds what the message shows (never citizen identity).
    """

    __tablename__ = "alerts"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    kind: str = Field(max_length=24)
    agency_code: str = Field(max_length=64, index=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    complaint: bool = Field(default=False)
    survey_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    created_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    acknowledged_at: NaiveDatetime | None = Field(default=None)
    acknowledged_by: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    handled_at: NaiveDatetime | None = Field(default=None)
    handled_by: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    note: str | None = Field(default=None, max_length=1000)
    escalated_at: NaiveDatetime | None = Field(default=None)
    citizen_satisfied: bool | None = Field(default=None)


class AgencyDailyScore(SQLModel, table=True):
    """`daily_scores` summed per agency and question: months and years are read from here."""

    __tablename__ = "agency_daily_scores"
    __table_args__ = (
        UniqueConstraint("day", "agency_code", "question_code", name="uq_agency_daily_key"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    day: date = Field(index=True)
    agency_code: str = Field(max_length=64)
    question_code: str = Field(max_length=24)
    factor: int | None = Field(default=None)
    n1: int = Field(default=0)
    n2: int = Field(default=0)
    n3: int = Field(default=0)
    n4: int = Field(default=0)
    n5: int = Field(default=0)


class AuditEntry(SQLModel, table=True):
    """One line of the append-only audit log: a change (before → after) or a refusal.

    `at` is naive UTC; `actor_chat_id` is None for the service itself (e.g. the CLI).
    Nothing in the bot updates or deletes these rows.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    actor_chat_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    actor_label: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=200)
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class ChatDialog(SQLModel, table=True):
    """The one guided conversation a chat has open (an admin editing a question, ...)."""

    __tablename__ = "chat_dialogs"

    chat_id: int = Field(
        sa_column=Column(BigId, ForeignKey("chats.id"), primary_key=True, autoincrement=False)
    )
    kind: str = Field(max_length=64)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class RuntimeSetting(SQLModel, table=True):
    """A setting an admin changed by chat; it overrides the environment's value."""

    __tablename__ = "runtime_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=200)


class AlertMute(SQLModel, table=True):
    """A head's `/mute`: non-urgent alerts to this chat wait until `until` (naive UTC).

    Complaints (money asked, harassment) are never held.
    """

    __tablename__ = "alert_mutes"

    chat_id: int = Field(
        sa_column=Column(BigId, ForeignKey("chats.id"), primary_key=True, autoincrement=False)
    )
    until: NaiveDatetime
    set_at: NaiveDatetime = Field(default_factory=utcnow)


class ChatChoices(SQLModel, table=True):
    """A chat's pending choices on a channel without buttons: the actions its latest message
    with choices numbered (`actions[0]` is option 1), so a typed number means a press."""

    __tablename__ = "chat_choices"

    chat_id: int = Field(
        sa_column=Column(BigId, ForeignKey("chats.id"), primary_key=True, autoincrement=False)
    )
    actions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sent_at: NaiveDatetime = Field(default_factory=utcnow)
