"""The applicant's sealed phone number: read for one case, deleted once no longer needed.

`case_contacts.phone_sealed` holds the number sealed with SIPAS_CONTACT_KEY (bot/contacts.py);
this module never sees it in clear. Intake writes it (storage/intake_sql.py). It is needed
until the case ends and its survey closes; SIPAS_CONTACT_RETENTION_DAYS after the later of the
two, `purge` sets it to NULL. Times are naive UTC:

- the case has ended when it is in a final status (refused 3, withdrawn 7, stopped 8, result
  handed over 10; "result ready" 9 is not final, the citizen still has to be told and served),
  and the time counted from is its last delivery (`cases.updated_at`), so a case that moves
  again keeps its phone;
- its survey is closed when it is neither invited nor in progress, counted from its last change
  (`surveys.updated_at`, set when it completes, expires or is stopped); a case without a survey
  counts as closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Update, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.models import Case, CaseContact, Survey
from storage.surveys import OPEN_SURVEY

cases_t = Case.__table__  # type: ignore[attr-defined]
contacts_t = CaseContact.__table__  # type: ignore[attr-defined]
surveys_t = Survey.__table__  # type: ignore[attr-defined]

# `TrangThaiHoSo` values after which nothing more is sent about the case (domain.md §2).
FINAL_STATUSES = (3, 7, 8, 10)


def _purge_statement(cutoff: datetime) -> Update:
    still_needed = exists(
        select(surveys_t.c.id).where(
            surveys_t.c.case_code == cases_t.c.code,
            or_(surveys_t.c.status.in_(OPEN_SURVEY), surveys_t.c.updated_at >= cutoff),
        )
    )
    done = select(cases_t.c.code).where(
        cases_t.c.status.in_(FINAL_STATUSES), cases_t.c.updated_at < cutoff, ~still_needed
    )
    return (
        update(contacts_t)
        .where(contacts_t.c.phone_sealed.is_not(None), contacts_t.c.case_code.in_(done))
        .values(phone_sealed=None)
    )


class ContactStore:
    """Reads a case's sealed phone and deletes the sealed phones past their retention."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def phone_of(self, case_code: str) -> str | None:
        """The case's phone as sealed (`<kid>.<base64>`), or None when none is kept."""
        stmt = select(contacts_t.c.phone_sealed).where(contacts_t.c.case_code == case_code)
        with translate_errors():
            async with self.engine.connect() as conn:
                sealed: str | None = (await conn.execute(stmt)).scalar()
        return sealed

    async def purge(self, now: datetime, retention: timedelta) -> int:
        """Delete the sealed phone of every case ended, with its survey closed or absent, for
        longer than `retention` before `now`; the number of phones deleted."""
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(_purge_statement(now - retention))
        return int(result.rowcount or 0)


__all__ = ["FINAL_STATUSES", "ContactStore"]
