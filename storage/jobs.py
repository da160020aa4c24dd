"""Claims of scheduled job runs: a job runs once per period, whichever replica gets there."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import translate_errors
from storage.models import JobRun

runs_t = JobRun.__table__  # type: ignore[attr-defined]


class JobClaims:
    """`claim` inserts (job, period) once; a run left `running` past its lease may be retaken."""

    def __init__(self, engine: AsyncEngine, *, lease: timedelta = timedelta(hours=1)) -> None:
        self._engine = engine
        self._insert = dialect_insert(engine)
        self._lease = lease

    async def claim(self, job: str, period: str, *, now: datetime) -> bool:
        """True if this caller should run `job` for `period` now."""
        with translate_errors():
            async with self._engine.begin() as conn:
                # A run that died mid-way (still 'running' after the lease) or failed is retaken.
                await conn.execute(
                    delete(runs_t).where(
                        runs_t.c.job == job,
                        runs_t.c.period == period,
                        or_(
                            runs_t.c.status == "failed",
                            and_(
                                runs_t.c.status == "running",
                                runs_t.c.started_at < now - self._lease,
                            ),
                        ),
                    )
                )
                inserted = await conn.execute(
                    self._insert(runs_t)
                    .values(job=job, period=period, status="running", started_at=now)
                    .on_conflict_do_nothing(index_elements=["job", "period"])
                    .returning(runs_t.c.id)
                )
                return inserted.scalar() is not None

    async def finish(self, job: str, period: str, *, now: datetime, ok: bool, detail: str) -> None:
        with translate_errors():
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(runs_t)
                    .where(runs_t.c.job == job, runs_t.c.period == period)
                    .values(
                        status="done" if ok else "failed", finished_at=now, detail=detail[:1000]
                    )
                )

    async def status(self, job: str, period: str) -> str | None:
        with translate_errors():
            async with self._engine.connect() as conn:
                found = await conn.execute(
                    select(runs_t.c.status).where(runs_t.c.job == job, runs_t.c.period == period)
                )
                value = found.scalar()
        return None if value is None else str(value)
