"""APScheduler 3 inside `sipas serve`: cron jobs that run once per period across replicas.

Each job names its period (a day, an hour, a month) for the moment it fires; the run is claimed
in `job_runs` first, so several replicas, a restart or a manual run never do a period twice.
APScheduler coalesces missed firings and allows a grace period; in addition, at start every
job whose latest scheduled time today has passed without a claimed run is run once (catch-up),
so a restart at 06:05 still runs the 06:00 job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from storage.errors import StorageError
from storage.jobs import JobClaims

log = logging.getLogger(__name__)
JobBody = Callable[[datetime], Awaitable[str]]


def day_period(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def hour_period(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def quarter_hour_period(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:") + f"{moment.minute // 15 * 15:02d}"


def month_period(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass(frozen=True)
class Job:
    """A scheduled job: cron fields (local time), its period naming, and its body.

    The body receives the local moment the run stands for and returns a one-line summary.
    """

    name: str
    cron: dict[str, Any]
    body: JobBody
    period: Callable[[datetime], str] = day_period
    catch_up: bool = True
    grace: timedelta = field(default=timedelta(hours=2))


class JobRunner:
    """Runs `Job`s on an AsyncIOScheduler, claiming each period once."""

    def __init__(
        self,
        jobs: list[Job],
        *,
        claims: JobClaims,
        tz: ZoneInfo,
        local_now: Callable[[], datetime],
        utcnow: Callable[[], datetime],
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        self._claims = claims
        self._tz = tz
        self._local_now = local_now
        self._utcnow = utcnow
        self._scheduler = AsyncIOScheduler(timezone=tz)

    async def run_once(
        self,
        name: str,
        moment: datetime | None = None,
        *,
        force: bool = False,
    ) -> str | None:
        """Run job `name` for the period of `moment` unless it already ran (or `force`)."""
        job = self.jobs[name]
        moment = moment or self._local_now()
        period = job.period(moment)
        if not force and not await self._claims.claim(name, period, now=self._utcnow()):
            return None
        if force:
            await self._claims.claim(name, period, now=self._utcnow())
        try:
            summary = await job.body(moment)
        except Exception as exc:
            log.exception("job failed", extra={"job": name, "period": period})
            await self._claims.finish(name, period, now=self._utcnow(), ok=False, detail=repr(exc))
            return None
        await self._claims.finish(name, period, now=self._utcnow(), ok=True, detail=summary)
        log.info("job done", extra={"job": name, "period": period, "summary": summary})
        return summary

    async def _fire(self, name: str) -> None:
        try:
            await self.run_once(name)
        except StorageError as exc:
            log.warning("job not run: database unavailable", extra={"job": name, "error": str(exc)})

    def latest_fire_before(self, job: Job, now: datetime) -> datetime | None:
        """The latest scheduled time of `job` in the last day before `now` (local)."""
        trigger = CronTrigger(timezone=self._tz, **job.cron)
        start = (now - timedelta(days=1)).replace(tzinfo=self._tz)
        latest = None
        moment = trigger.get_next_fire_time(None, start)
        while moment is not None and moment <= now.replace(tzinfo=self._tz):
            latest = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return None if latest is None else latest.replace(tzinfo=None)

    async def catch_up(self) -> None:
        """Run, once, each job whose last scheduled time passed without a run (grace applies)."""
        now = self._local_now()
        for job in self.jobs.values():
            if not job.catch_up:
                continue
            missed = self.latest_fire_before(job, now)
            if missed is None or now - missed > job.grace:
                continue
            try:
                await self.run_once(job.name, missed)
            except StorageError as exc:
                log.warning("catch-up skipped", extra={"job": job.name, "error": str(exc)})

    def start(self) -> None:
        for job in self.jobs.values():
            self._scheduler.add_job(
                self._fire,
                CronTrigger(timezone=self._tz, **job.cron),
                args=[job.name],
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(job.grace.total_seconds()),
            )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
