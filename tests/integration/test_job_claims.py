"""Scheduled jobs run once per period, even with two schedulers racing (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.runner import Job, JobRunner, day_period
from storage.db import create_engine
from storage.jobs import JobClaims

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 5, 6, 5)


def runner(engine, runs: list[str], *, now: datetime = NOW, fail: bool = False) -> JobRunner:  # type: ignore[no-untyped-def]
    async def body(moment: datetime) -> str:
        await asyncio.sleep(0.05)
        if fail:
            raise RuntimeError("boom")
        runs.append(day_period(moment))
        return "scored"

    return JobRunner(
        [Job("daily-score", {"hour": 6, "minute": 0}, body)],
        claims=JobClaims(engine),
        tz=HCM,
        local_now=lambda: now,
        utcnow=lambda: now - timedelta(hours=7),
    )


async def test_two_schedulers_racing_run_each_period_once(migrated_url: str) -> None:
    first, second = create_engine(migrated_url), create_engine(migrated_url)
    runs: list[str] = []
    try:
        results = await asyncio.gather(
            *(runner(engine, runs).run_once("daily-score") for engine in (first, second) * 3)
        )
        assert runs == ["2026-10-05"]
        assert sorted(r or "" for r in results) == ["", "", "", "", "", "scored"]
        assert await JobClaims(first).status("daily-score", "2026-10-05") == "done"
        # The next day is a new period.
        assert await runner(first, runs, now=NOW + timedelta(days=1)).run_once("daily-score")
        assert runs == ["2026-10-05", "2026-10-06"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_restart_after_the_scheduled_time_catches_up_once(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    runs: list[str] = []
    try:
        await runner(engine, runs).catch_up()  # started at 06:05: the 06:00 run happens
        await runner(engine, runs).catch_up()  # a second restart does not repeat it
        assert runs == ["2026-10-05"]
        late = runner(engine, runs, now=datetime(2026, 10, 6, 9, 30))  # past the 2 h grace
        await late.catch_up()
        assert runs == ["2026-10-05"]
    finally:
        await engine.dispose()


async def test_a_failed_run_can_be_retried_and_a_forced_run_repeats(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    runs: list[str] = []
    try:
        assert await runner(engine, runs, fail=True).run_once("daily-score") is None
        assert await JobClaims(engine).status("daily-score", "2026-10-05") == "failed"
        assert await runner(engine, runs).run_once("daily-score") == "scored"
        assert await runner(engine, runs).run_once("daily-score") is None
        assert await runner(engine, runs).run_once("daily-score", force=True) == "scored"
        assert runs == ["2026-10-05", "2026-10-05"]
    finally:
        await engine.dispose()


def test_latest_fire_before() -> None:
    job_runner = runner(create_engine("sqlite+aiosqlite:///:memory:"), [])
    job = job_runner.jobs["daily-score"]
    assert job_runner.latest_fire_before(job, datetime(2026, 10, 5, 6, 5)) == datetime(
        2026, 10, 5, 6, 0
    )
    assert job_runner.latest_fire_before(job, datetime(2026, 10, 5, 5, 59)) == datetime(
        2026, 10, 4, 6, 0
    )
