"""The `sipas` command line: the parser and `main`. A command that fails exits non-zero with a
one-line reason. Each subcommand lives in the module of its job (env, serve, reports, cases)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli.base import CommandError
from bot.cli.cases import cmd_import_responses, cmd_invite, cmd_send_sample
from bot.cli.contacts import cmd_purge_contacts
from bot.cli.env import ENV_TEMPLATE, cmd_export_secret_key, cmd_init_env
from bot.cli.receipt import cmd_receipt
from bot.cli.reports import JOBS, REPORT_TABLES, cmd_report, cmd_run_job, cmd_score, day
from bot.cli.serve import cmd_migrate, cmd_serve

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sipas",
        description="SIPAS Bot: citizen-satisfaction surveys and case-timeliness alerts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve", help="migrate, then run the HTTP server, chat channels and scheduler"
    ).set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    init_env = commands.add_parser(
        "init-env", help="write .env with new random secrets unless it exists"
    )
    init_env.add_argument("--path", default=".env")
    init_env.add_argument("--template", default=str(ENV_TEMPLATE))
    init_env.set_defaults(func=cmd_init_env)
    commands.add_parser(
        "export-secret-key",
        help="move the link key an older version kept in the database to SIPAS_SECRET_KEY",
        description=(
            "Prints the SIPAS_SECRET_KEY line to put in .env when the database still holds "
            "the link key; once the environment holds it, deletes the database copy."
        ),
    ).set_defaults(func=cmd_export_secret_key)
    score = commands.add_parser("score", help="score one day (the daily job, run by hand)")
    score.add_argument("--date", type=day, required=True, help="local day YYYY-MM-DD")
    score.set_defaults(func=cmd_score)
    report = commands.add_parser(
        "report",
        help="the agency report of a period (CSV on stdout, or an XLSX workbook)",
        description=(
            "CSV: one table, --table agencies (the contract's columns, one row per agency), "
            "channels (MaCoQuan,channel,invited,completed,response_rate) or messages "
            "(month,MaCoQuan,zns_messages,oa_billable). XLSX: a workbook holding them all."
        ),
    )
    report.add_argument(
        "--from", dest="start", type=day, required=True, help="first local day YYYY-MM-DD"
    )
    report.add_argument(
        "--to", dest="end", type=day, required=True, help="last local day YYYY-MM-DD"
    )
    report.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    report.add_argument(
        "--table",
        choices=REPORT_TABLES,
        default=REPORT_TABLES[0],
        help="the CSV's table: per agency (default), per agency and channel, or the paid "
        "messages per month and agency (csv only: the workbook holds every table)",
    )
    report.add_argument(
        "--output",
        metavar="FILE",
        help="write here (xlsx default: sipas-report-FROM-TO.xlsx in this directory)",
    )
    report.set_defaults(func=cmd_report, usage_error=report.error)
    import_responses = commands.add_parser(
        "import-responses",
        help="import survey answers from a CSV file (all rows or none)",
        description="CSV header: MaHoSo,MaCoQuan,question_code,value,answered_at (UTF-8).",
    )
    import_responses.add_argument("file", metavar="FILE.csv")
    import_responses.set_defaults(func=cmd_import_responses)
    invite = commands.add_parser(
        "invite", help="print a one-time link granting a role: head (of an agency), inspector"
    )
    invite.add_argument("role", choices=["head", "inspector", "admin"])
    invite.add_argument("--agency", help="MaCoQuan of the agency (for a head)")
    invite.set_defaults(func=cmd_invite)
    run_job = commands.add_parser("run-job", help="run a scheduled job now: " + ", ".join(JOBS))
    run_job.add_argument("job", choices=JOBS)
    run_job.set_defaults(func=cmd_run_job)
    commands.add_parser(
        "purge-contacts",
        help="delete the sealed phone numbers past SIPAS_CONTACT_RETENTION_DAYS (daily job)",
    ).set_defaults(func=cmd_purge_contacts)
    sample = commands.add_parser("send-sample", help="post a signed sample case event")
    sample.add_argument("--url", help="service base URL (default: from settings)")
    sample.add_argument("--case", default="H12.22-260101-0001", help="MaHoSo to use")
    sample.add_argument("--status", type=int, default=2, help="TrangThaiHoSo (1–10)")
    sample.set_defaults(func=cmd_send_sample)
    receipt = commands.add_parser(
        "receipt",
        help="print a case's receipt block (SVG): its QR code, link code and how to answer",
    )
    receipt.add_argument("case", metavar="MaHoSo", help="the case code")
    receipt.set_defaults(func=cmd_receipt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; 0 when done, 1 with a one-line reason on stderr when it cannot."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CommandError as exc:
        print(f"sipas {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
