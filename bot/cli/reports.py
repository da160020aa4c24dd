"""`sipas score`, `sipas report` and `sipas run-job`: the scoring, reports and scheduled jobs,
run by hand. `sipas report` prints one CSV table (`--table agencies|channels|messages`,
bot.report_output.table_csv) or writes the workbook holding them all
(bot.report_workbook.write_xlsx)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli.base import CommandError, prepare, with_services

JOBS = ("daily-score", "digest", "monthly-report", "late-cases", "escalation", "purge-contacts")
# `sipas report --table`: the CSV's table (bot.report_output.CSV_TABLES; the first is the default).
REPORT_TABLES = ("agencies", "channels", "messages")


def day(value: str) -> date:
    """An argparse type: a local day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {value!r}") from None


def cmd_score(args: argparse.Namespace) -> None:
    """Score one day into the stored daily counts (replacing an earlier scoring of it)."""
    from bot.scoring_setup import question_meta
    from scheduler.scoring_jobs import score_day
    from storage.db import create_engine
    from storage.errors import StorageError

    settings = prepare()

    async def run() -> str:
        engine = create_engine(settings.database_url)
        try:
            return await score_day(engine, args.date, await question_meta(engine))
        finally:
            await engine.dispose()

    try:
        print(asyncio.run(run()))
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None


def cmd_report(args: argparse.Namespace) -> None:
    """The agency report of a period: CSV on stdout — the contract's columns (`--table
    agencies`, the default), the surveys per agency and channel (`channels`) or the paid
    messages per month and agency (`messages`) — or a printable XLSX workbook holding all of
    them (so another `--table` with xlsx is a usage error, exit 2)."""
    table: str = args.table
    if args.format == "xlsx" and table != REPORT_TABLES[0]:
        args.usage_error(
            f"--table {table} is only for --format csv: the workbook already holds every table"
        )
    from bot import report_output, report_workbook
    from bot.scoring_setup import question_meta
    from storage.db import create_engine
    from storage.errors import StorageError

    start: date = args.start
    end: date = args.end
    if start > end:
        raise CommandError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    output = Path(args.output) if args.output else None
    if args.format == "xlsx" and output is None:
        output = Path.cwd() / report_workbook.default_xlsx_name(start, end)
    if output is not None and not output.resolve().parent.is_dir():
        raise CommandError(f"cannot write {output}: no such directory {output.parent}")
    settings = prepare()

    async def run() -> report_output.ReportData:
        engine = create_engine(settings.database_url)
        try:
            meta = await question_meta(engine)
            return await report_output.collect(
                engine, start, end, meta, rule=settings.rule, tz=settings.tz
            )
        finally:
            await engine.dispose()

    try:
        data = asyncio.run(run())
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    try:
        if args.format == "csv":
            text = report_output.table_csv(data, table)
            if output is None:
                sys.stdout.flush()
                sys.stdout.buffer.write(text.encode("utf-8"))
                sys.stdout.buffer.flush()
                return
            output.write_text(text, encoding="utf-8")
            written = output.resolve()
        else:
            assert output is not None
            written = report_workbook.write_xlsx(data, output)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"report {start.isoformat()} to {end.isoformat()} written to {written}")


def cmd_run_job(args: argparse.Namespace) -> None:
    """Run one scheduled job now (again, even if it already ran for this period)."""
    from bot.services import job_runner

    settings = prepare()

    async def run(services: Any) -> str | None:
        return await job_runner(services, settings).run_once(args.job, force=True)

    summary = with_services(settings, run)
    if summary is None:
        raise CommandError(f"job {args.job} failed; see the log")
    print(summary)
