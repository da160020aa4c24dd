"""One measurement per process: `python -m bench.scoring.worker TASK '{json options}'`.

Tasks: ``setup`` (migrate, generate, VACUUM ANALYZE), ``recompute`` (score every day of the
year), ``daily`` (the morning job), ``baseline`` (the bare in-memory groupby), ``profile``
(EXPLAIN ANALYZE of the job's queries and cProfile of the job). Each prints one JSON object as
the last line of stdout; progress goes to stderr. The peak RSS is
`resource.getrusage(RUSAGE_SELF).ru_maxrss` of this process only, so running each measurement
in a fresh process keeps peaks apart; imports are done before any timing starts.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.scoring import datagen
from bot.scoring_setup import question_meta
from bot.survey.questionnaire import builtin
from scheduler.scoring_jobs import daily_job as product_daily_job
from scheduler.scoring_jobs import score_day
from scoring.sipas import sipas_index
from storage import scores
from storage.db import create_engine, is_sqlite, migrate

MIB = 1024 * 1024


def peak_rss() -> int:
    """High-water RSS of this process in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def log(message: str) -> None:
    print(f"[worker {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Phases:
    """Wall time and RSS (current, peak so far) after each named phase."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = self.start
        self.rows: list[dict[str, Any]] = []

    def mark(self, name: str, **extra: Any) -> None:
        now = time.perf_counter()
        self.rows.append(
            {
                "phase": name,
                "seconds": round(now - self.last, 4),
                "rss_mib": round(current_rss() / MIB, 1),
                "peak_mib": round(peak_rss() / MIB, 1),
                **extra,
            }
        )
        self.last = now

    @property
    def total(self) -> float:
        return self.last - self.start


# --- setup -----------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _form_json() -> str:
    return json.dumps(builtin("short").to_dict(), ensure_ascii=False)


def _expect_choice() -> str:
    form = builtin("short")
    question = next(q for q in form.questions if q.code == "EXPECT")
    return question.options[0].code


async def _setup_postgres(url: str, surveys: int) -> dict[str, Any]:
    import asyncpg

    steps: dict[str, float] = {}
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute("SET work_mem = '256MB'; SET maintenance_work_mem = '1GB'")
        await conn.execute("SET synchronous_commit = off")
        now = datetime(2025, 12, 1)
        begin = time.perf_counter()
        await conn.execute(
            "INSERT INTO questionnaires (version, status, base, definition, created_at, "
            "published_at) VALUES (1, 'active', 'short', $1::json, $2, $2)",
            _form_json(),
            now,
        )
        steps["questionnaire"] = time.perf_counter() - begin
        for name, sql in datagen.postgres_steps(surveys, _expect_choice()):
            begin = time.perf_counter()
            await conn.execute(sql)
            steps[name] = time.perf_counter() - begin
            log(f"setup {name}: {steps[name]:.1f} s")
        await conn.execute("DROP TABLE plan")
        begin = time.perf_counter()
        # VACUUM too: autovacuum would otherwise start on the fresh rows mid-measurement.
        await conn.execute("VACUUM ANALYZE")
        steps["vacuum_analyze"] = time.perf_counter() - begin
        log(f"setup vacuum_analyze: {steps['vacuum_analyze']:.1f} s")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM agencies) AS agencies,"
            " (SELECT count(*) FROM procedures) AS procedures,"
            " (SELECT count(*) FROM cases) AS cases,"
            " (SELECT count(*) FROM surveys) AS surveys,"
            " (SELECT count(*) FROM answers) AS answers,"
            " (SELECT count(*) FROM answers WHERE value_int BETWEEN 1 AND 5"
            "   AND question_code IN ('F1','F2','F3','F4','F5','OVERALL')) AS likert_answers"
        )
        sizes = await conn.fetchrow(
            "SELECT pg_total_relation_size('answers') AS answers,"
            " pg_database_size(current_database()) AS database"
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'answers' ORDER BY 1"
        )
    finally:
        await conn.close()
    return {
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "counts": dict(counts),
        "answers_bytes": int(sizes["answers"]),
        "database_bytes": int(sizes["database"]),
        "answers_indexes": {r["indexname"]: r["indexdef"] for r in indexes},
    }


def _setup_sqlite(url: str, surveys: int) -> dict[str, Any]:
    """SQLite has no generate_series here: insert the numpy plan with executemany."""
    import sqlite3

    from sqlalchemy.engine import make_url

    path = make_url(url).database
    assert path
    steps: dict[str, float] = {}
    begin = time.perf_counter()
    plan = datagen.numpy_plan(surveys)
    steps["numpy_plan"] = time.perf_counter() - begin
    codes = datagen.agency_codes()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    stamp = "2025-12-01 00:00:00.000000"
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    begin = time.perf_counter()
    conn.execute(
        "INSERT INTO questionnaires (version, status, base, definition, created_at, published_at)"
        " VALUES (1, 'active', 'short', ?, ?, ?)",
        (_form_json(), stamp, stamp),
    )
    conn.executemany(
        "INSERT INTO agencies (code, name, parent_code, created_at) VALUES (?, ?, ?, ?)",
        [(c, c, None if c == "PROV" else "PROV", stamp) for c in codes],
    )
    conn.executemany(
        "INSERT INTO procedures (code, name, created_at) VALUES (?, ?, ?)",
        [(f"TTHC{k:04d}", f"Thủ tục {k}", stamp) for k in range(1, datagen.N_PROCEDURES + 1)],
    )
    start = datetime.combine(datagen.YEAR_START, datetime.min.time())
    expect = json.dumps([_expect_choice()])
    chunk = 50_000
    for low in range(0, surveys, chunk):
        ids = range(low + 1, min(surveys, low + chunk) + 1)
        case_rows = []
        survey_rows = []
        answer_rows = []
        for i in ids:
            j = i - 1
            answered = start + timedelta(days=int(plan.day[j]), seconds=int(plan.seconds[j]))
            received = answered - timedelta(days=float(plan.lead_days[j]))
            due = received + timedelta(days=15)
            ended = answered - timedelta(hours=3)
            agency = codes[int(plan.agency[j])]
            officer = None if plan.officer[j] == 0 else f"{agency}-CB{int(plan.officer[j]):02d}"
            code = f"HS{i:010d}"
            case_rows.append(
                (
                    i,
                    code,
                    agency,
                    f"TTHC{int(plan.procedure[j]):04d}",
                    officer,
                    10,
                    received.strftime(fmt),
                    due.strftime(fmt),
                    ended.strftime(fmt),
                    "on_time" if ended.date() <= due.date() else "late",
                    ended.strftime(fmt),
                    stamp,
                    stamp,
                )
            )
            utc = answered - timedelta(hours=7)
            survey_rows.append(
                (
                    i,
                    code,
                    "import",
                    1,
                    "completed",
                    utc.strftime(fmt),
                    utc.strftime(fmt),
                    (utc + timedelta(days=7)).strftime(fmt),
                    utc.strftime(fmt),
                )
            )
            for order, (qcode, kind, _p) in enumerate(datagen.QUESTIONS):
                value = None if kind == "choice" else int(plan.values[j, order])
                answer_rows.append(
                    (
                        i,
                        qcode,
                        value,
                        expect if kind == "choice" else None,
                        (answered + timedelta(seconds=15 * (order + 1))).strftime(fmt),
                    )
                )
        conn.executemany(
            "INSERT INTO cases (id, code, agency_code, procedure_code, officer_name, status,"
            " received_at, due_at, ended_at, timeliness, state_at, events_count, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 3, ?, ?)",
            case_rows,
        )
        conn.executemany(
            "INSERT INTO surveys (id, case_code, source, questionnaire_version, status,"
            " invited_at, completed_at, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            survey_rows,
        )
        conn.executemany(
            "INSERT INTO answers (survey_id, question_code, value_int, choices, skipped,"
            " answered_at) VALUES (?, ?, ?, ?, 0, ?)",
            answer_rows,
        )
        conn.commit()
    steps["insert"] = time.perf_counter() - begin
    begin = time.perf_counter()
    conn.execute("ANALYZE")
    conn.commit()
    steps["analyze"] = time.perf_counter() - begin
    one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
    counts = {
        "agencies": one("SELECT count(*) FROM agencies"),
        "procedures": one("SELECT count(*) FROM procedures"),
        "cases": one("SELECT count(*) FROM cases"),
        "surveys": one("SELECT count(*) FROM surveys"),
        "answers": one("SELECT count(*) FROM answers"),
        "likert_answers": one(
            "SELECT count(*) FROM answers WHERE value_int BETWEEN 1 AND 5"
            " AND question_code IN ('F1','F2','F3','F4','F5','OVERALL')"
        ),
    }
    conn.close()
    return {
        "steps_s": {k: round(v, 2) for k, v in steps.items()},
        "counts": counts,
        "database_bytes": Path(path).stat().st_size,
    }


def task_setup(options: dict[str, Any]) -> dict[str, Any]:
    url = str(options["url"])
    surveys = datagen.surveys_for(int(options["answers"]))
    begin = time.perf_counter()
    migrate(url)
    migrate_s = time.perf_counter() - begin
    log(f"migrated in {migrate_s:.1f} s; generating {surveys} surveys")
    if is_sqlite(url):
        out = _setup_sqlite(url, surveys)
    else:
        out = asyncio.run(_setup_postgres(url, surveys))
    out["steps_s"] = {"migrate": round(migrate_s, 2), **out["steps_s"]}
    out["seconds"] = round(time.perf_counter() - begin, 2)
    out["peak_rss_bytes"] = peak_rss()
    return out


# --- the scoring job -------------------------------------------------------------------------


def _days() -> list[date]:
    return [datagen.YEAR_START + timedelta(days=k) for k in range(datagen.DAYS)]


async def _backend_memory(engine: AsyncEngine) -> dict[str, Any]:
    """VmHWM / VmRSS of the PostgreSQL backend serving this engine's pooled connection."""
    if is_sqlite(str(engine.url)):
        return {}
    async with engine.connect() as conn:
        pid = int((await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())
    out: dict[str, Any] = {"pid": pid}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key = line.split(":")[0]
                if key in ("VmHWM", "VmRSS", "RssAnon", "RssShmem"):
                    out[key] = int(line.split()[1]) * 1024
    except OSError as exc:
        out["error"] = str(exc)
    return out


async def _recompute(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        begin = time.perf_counter()
        meta = await question_meta(engine)
        per_day: list[float] = []
        for day in _days():
            start = time.perf_counter()
            await score_day(engine, day, meta)
            per_day.append(time.perf_counter() - start)
            if day.day == 1:
                log(f"recompute {day}: {per_day[-1]:.2f} s (peak {peak_rss() / MIB:.0f} MiB)")
        seconds = time.perf_counter() - begin
        backend = await _backend_memory(engine)
        async with engine.connect() as conn:
            stored = int(
                (await conn.exec_driver_sql("SELECT count(*) FROM daily_scores")).scalar_one()
            )
    finally:
        await engine.dispose()
    days = np.asarray(per_day)
    return {
        "seconds": round(seconds, 2),
        "days": len(per_day),
        "per_day_s": {
            "min": round(float(days.min()), 3),
            "median": round(float(np.median(days)), 3),
            "max": round(float(days.max()), 3),
        },
        "daily_scores_rows": stored,
        "peak_rss_bytes": peak_rss(),
        "backend": backend,
    }


def _as_counts(stored: pd.DataFrame) -> pd.DataFrame:
    """Stored daily rows → what `sipas_index` / `select_days` need (day as datetime)."""
    stored["factor"] = stored["factor"].astype("Int64")
    stored["day"] = pd.to_datetime(stored["day"])
    return stored


async def daily_job(engine: AsyncEngine, yesterday: date, phases: Phases) -> dict[str, Any]:
    """What runs every morning (the product's `scheduler.scoring_jobs.daily_job`): score
    yesterday, then yesterday / MTD / YTD SIPAS per agency, the periods summed in SQL."""
    meta = await question_meta(engine)
    phases.mark("question_meta")
    message, indices = await product_daily_job(engine, yesterday, meta)
    phases.mark("daily_job", message=message)
    ytd = indices["year_to_date"]
    return {
        "message": message,
        "answers_ytd": int(ytd["n"].sum()) if "n" in ytd.columns else None,
        "agencies": {
            "yesterday": len(indices["day"]),
            "mtd": len(indices["month_to_date"]),
            "ytd": len(ytd),
        },
        "province_ytd_sipas": _first(ytd, "PROV"),
        "mean_ytd_sipas": round(float(ytd["sipas"].mean()), 2),
    }


def _first(indices: pd.DataFrame, agency: str) -> float | None:
    rows = indices.loc[indices["agency_code"] == agency, "sipas"]
    return None if rows.empty or pd.isna(rows.iloc[0]) else round(float(rows.iloc[0]), 2)


async def _daily(url: str, candidate: bool = False) -> dict[str, Any]:
    engine = create_engine(url)
    job = candidate_job if candidate else daily_job
    try:
        phases = Phases()
        result = await job(engine, datagen.YESTERDAY, phases)
        seconds = phases.total
        backend = await _backend_memory(engine)
    finally:
        await engine.dispose()
    return {
        "seconds": round(seconds, 3),
        "phases": phases.rows,
        "peak_rss_bytes": peak_rss(),
        "backend": backend,
        **result,
    }


async def _vacuum(url: str) -> dict[str, Any]:
    """VACUUM ANALYZE daily_scores after the recomputation (autovacuum would do it anyway)."""
    engine = create_engine(url)
    begin = time.perf_counter()
    try:
        async with engine.connect() as conn:
            if is_sqlite(url):
                await conn.exec_driver_sql("ANALYZE")
            else:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE daily_scores")
    finally:
        await engine.dispose()
    return {"seconds": round(time.perf_counter() - begin, 2)}


# --- candidate: period sums in SQL (not product code) -------------------------------------------


async def sql_period_counts(engine: AsyncEngine, start: date, end: date) -> pd.DataFrame:
    """Stored counts of [start, end] summed per agency and question in SQL (≤ 200 × 6 rows)."""
    table = scores.scores_t
    levels = [table.c[c] for c in scores.LEVEL_COLUMNS]
    statement = (
        select(
            table.c.agency_code,
            table.c.question_code,
            table.c.factor,
            *(func.sum(c).label(c.name) for c in levels),
        )
        .where(table.c.day >= start, table.c.day <= end)
        .group_by(table.c.agency_code, table.c.question_code, table.c.factor)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(statement)).all()
    columns = ["agency_code", "question_code", "factor", *scores.LEVEL_COLUMNS]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["factor"] = frame["factor"].astype("Int64")
    return frame


async def candidate_job(engine: AsyncEngine, yesterday: date, phases: Phases) -> dict[str, Any]:
    """The same morning job, but day / MTD / YTD are summed in SQL instead of read per row."""
    meta = await question_meta(engine)
    phases.mark("question_meta")
    message = await score_day(engine, yesterday, meta)
    phases.mark("score_day", message=message)
    figures = {}
    for name, start in (
        ("yesterday", yesterday),
        ("mtd", yesterday.replace(day=1)),
        ("ytd", yesterday.replace(month=1, day=1)),
    ):
        counts = await sql_period_counts(engine, start, yesterday)
        figures[name] = (len(counts), sipas_index(counts, "agency_code"))
        phases.mark(f"sql_sum_{name}", rows=len(counts))
    ytd_rows, ytd = figures["ytd"]
    return {
        "message": message,
        "stored_rows_ytd": ytd_rows,
        "agencies": {name: len(frame) for name, (_n, frame) in figures.items()},
        "province_ytd_sipas": _first(ytd, "PROV"),
        "mean_ytd_sipas": round(float(ytd["sipas"].mean()), 2),
    }


# --- baseline ----------------------------------------------------------------------------------


def task_baseline(options: dict[str, Any]) -> dict[str, Any]:
    """Load (agency, question, value) rows in memory, then time the bare groupby."""
    answers = int(options["answers"])
    keys = str(options.get("keys", "category"))
    repeat = int(options.get("repeat", 3))
    surveys = datagen.surveys_for(answers)
    rss_before = current_rss()
    begin = time.perf_counter()
    rng = np.random.default_rng(7)
    agency_idx = np.empty(surveys * datagen.ANSWERS_PER_SURVEY, dtype=np.int16)
    values = np.empty(surveys * datagen.ANSWERS_PER_SURVEY, dtype=np.int8)
    chunk = 250_000
    for low in range(0, surveys, chunk):
        high = min(surveys, low + chunk)
        agencies = datagen.numpy_agencies(rng, high - low)
        span = slice(low * datagen.ANSWERS_PER_SURVEY, high * datagen.ANSWERS_PER_SURVEY)
        agency_idx[span] = np.repeat(agencies, datagen.ANSWERS_PER_SURVEY)
        values[span] = datagen.numpy_values(rng, agencies).ravel()
    question_idx = np.tile(np.arange(datagen.ANSWERS_PER_SURVEY, dtype=np.int8), surveys)
    agency_names = datagen.agency_codes()
    question_names = [code for code, _kind, _p in datagen.QUESTIONS]
    if keys == "category":
        agency_col: Any = pd.Categorical.from_codes(agency_idx, categories=agency_names)
        question_col: Any = pd.Categorical.from_codes(question_idx, categories=question_names)
    else:  # strings: what a frame read from SQL holds (one shared str object per code)
        agency_col = pd.array(np.asarray(agency_names, dtype=object)[agency_idx], dtype="str")
        question_col = pd.array(np.asarray(question_names, dtype=object)[question_idx], dtype="str")
    df = pd.DataFrame({"agency": agency_col, "question": question_col, "value": values})
    del agency_idx, question_idx, values, agency_col, question_col
    load_s = time.perf_counter() - begin
    rss_loaded = current_rss()
    log(f"baseline[{keys}]: {len(df)} rows loaded in {load_s:.1f} s, {rss_loaded / MIB:.0f} MiB")
    times = []
    share = pd.Series(dtype="float64")
    for _ in range(repeat):
        start = time.perf_counter()
        share = (df.value >= 4).groupby([df.agency, df.question], observed=True).mean()
        times.append(time.perf_counter() - start)
    return {
        "keys": keys,
        "rows": len(df),
        "frame_bytes": int(df.memory_usage(deep=True).sum()),
        "load_s": round(load_s, 2),
        "groupby_s": [round(t, 4) for t in times],
        "seconds": round(float(np.median(times)), 4),
        "groups": len(share),
        "rss_before_load_bytes": rss_before,
        "rss_loaded_bytes": rss_loaded,
        "peak_rss_bytes": peak_rss(),
    }


# --- profile -----------------------------------------------------------------------------------


async def _explain(engine: AsyncEngine, run: Callable[[], Awaitable[Any]]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement `run` sends (captured, then re-run)."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await run()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with engine.connect() as conn:
        for statement, parameters in captured:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append(statement + "\n-- parameters: " + repr(parameters))
            plans.append("\n".join(str(r[0]) for r in rows))
    return plans


async def _profile(url: str, out: str) -> dict[str, Any]:
    engine = create_engine(url)
    yesterday = datagen.YESTERDAY
    sections: list[str] = []
    try:
        if not is_sqlite(url):
            sections.append("== level_rows(yesterday) — what score_day reads ==")
            sections += await _explain(
                engine, lambda: scores.level_rows(engine, yesterday, yesterday)
            )
            sections.append("== stored_counts(year start, yesterday) — the YTD read ==")
            sections += await _explain(
                engine,
                lambda: scores.stored_counts(engine, yesterday.replace(month=1, day=1), yesterday),
            )
        profiler = cProfile.Profile()
        phases = Phases()
        profiler.enable()
        await daily_job(engine, yesterday, phases)
        profiler.disable()
    finally:
        await engine.dispose()
    for sort in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(sort).print_stats(30)
        sections.append(f"== cProfile of the daily job, by {sort} (30 rows) ==")
        sections.append(text.getvalue())
    sections.append("== phases under the profiler ==")
    sections.append(json.dumps(phases.rows, indent=1))
    Path(out).write_text("\n\n".join(sections), encoding="utf-8")
    return {"profile_file": out, "seconds_under_profiler": round(phases.total, 3)}


# --- entry -------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    task = argv[0]
    options: dict[str, Any] = json.loads(argv[1]) if len(argv) > 1 else {}
    url = str(options.get("url", ""))
    if task == "setup":
        result = task_setup(options)
    elif task == "recompute":
        result = asyncio.run(_recompute(url))
    elif task == "vacuum":
        result = asyncio.run(_vacuum(url))
    elif task == "daily":
        result = asyncio.run(_daily(url))
    elif task == "candidate":
        result = asyncio.run(_daily(url, candidate=True))
    elif task == "baseline":
        result = task_baseline(options)
    elif task == "profile":
        result = asyncio.run(_profile(url, str(options["out"])))
    else:
        print(f"unknown task {task!r}", file=sys.stderr)
        return 2
    result["pid"] = os.getpid()
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
