"""The `sipas` command line. A command that fails exits non-zero with a one-line reason."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.config import Settings
from bot.logs import configure as configure_logging


class CommandError(Exception):
    """A command cannot do what was asked; the message is shown on one line."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        raise CommandError(
            f"invalid setting {where}: {message}" if where else f"invalid settings: {message}"
        ) from None


def _migrate(settings: Settings) -> None:
    from storage.db import migrate

    try:
        migrate(settings.database_url)
    except Exception as exc:
        raise CommandError(f"migration failed: {type(exc).__name__}: {exc}") from exc


def cmd_migrate(_args: argparse.Namespace) -> None:
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)
    print("database is up to date")


def cmd_serve(_args: argparse.Namespace) -> None:
    from bot.app import serve
    from bot.secret_key import SecretKeyProblem, check_for_serve

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)
    try:
        asyncio.run(check_for_serve(settings))
    except SecretKeyProblem as exc:
        raise CommandError(str(exc)) from None

    def ready(url: str) -> None:
        print(f"SIPAS Bot listens on {url}", file=sys.stderr, flush=True)
        print("Send a first signed event:  .venv/bin/sipas send-sample", file=sys.stderr)
        print("Stop with Ctrl+C.", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(settings, on_ready=ready))
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {settings.http_host}:{settings.http_port}: {exc}"
        ) from None


ENV_TEMPLATE = Path(__file__).resolve().parent.parent / ".env.example"


def cmd_init_env(args: argparse.Namespace) -> None:
    """Write `.env` from `.env.example` with fresh random secrets, unless it exists."""
    target = Path(args.path)
    if target.is_symlink():
        raise CommandError(f"{target} is a symbolic link; refusing to write secrets through it")
    if target.exists():
        print(f"{target} exists; left unchanged")
        return
    template = Path(args.template)
    if not template.exists():
        raise CommandError(f"template {template} not found")
    generated = {
        "SIPAS_ONESTOP_SECRETS": secrets.token_urlsafe(32),
        "SIPAS_API_TOKEN": secrets.token_urlsafe(32),
        "SIPAS_SECRET_KEY": secrets.token_urlsafe(32),
    }
    lines = []
    for line in template.read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0].strip()
        if name in generated and "=" in line and not line.lstrip().startswith("#"):
            line = f"{name}={generated[name]}"
        lines.append(line)
    try:
        write_private(target, "\n".join(lines) + "\n")
    except FileExistsError:
        raise CommandError(f"{target} appeared while writing it; left unchanged") from None
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target} with new random secrets")


def write_private(target: Path, text: str) -> None:
    """Create `target` readable by its owner only, from the first byte: never through a
    symbolic link, never over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask allowed
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            descriptor = -1
            handle.write(text)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        target.unlink(missing_ok=True)
        raise


def cmd_export_secret_key(_args: argparse.Namespace) -> None:
    """Move the link key an older version kept in the database to SIPAS_SECRET_KEY."""
    from bot.secret_key import export_stored_key

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)
    from storage.errors import StorageError

    try:
        outcome = asyncio.run(export_stored_key(settings))
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    if outcome.line is None:
        print(outcome.message)
        return
    print(outcome.line)
    print(outcome.message, file=sys.stderr)


def sample_event(case_code: str, status: int, now: datetime) -> dict[str, object]:
    received = now - timedelta(days=3)
    event: dict[str, object] = {
        "MaHoSo": case_code,
        "MaCoQuan": "000.00.01.H12",
        "TenCoQuan": "Trung tâm Phục vụ hành chính công tỉnh",
        "MaTTHC": "1.001612",
        "TenTTHC": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "MaLinhVuc": "G09-KH01",
        "TenLinhVuc": "Thành lập và hoạt động của hộ kinh doanh",
        "TrangThaiHoSo": status,
        "NgayTiepNhan": received.strftime("%Y%m%d%H%M%S"),
        "NgayHenTra": (received + timedelta(days=5)).strftime("%Y%m%d%H%M%S"),
        "ThoiDiemXuLy": now.strftime("%Y%m%d%H%M%S"),
        "ChuHoSo": "Nguyễn Văn An",
        "SoDienThoai": "0912345678",
        "NguoiXuLy": "Trần Thị Bình",
        "KenhThucHien": 1,
        "LoaiDoiTuong": 1,
    }
    if status in (9, 10):
        event["NgayKetThucXuLy"] = now.strftime("%Y%m%d%H%M%S")
    if status == 10:
        event["NgayTra"] = now.strftime("%Y%m%d%H%M%S")
    return event


def cmd_send_sample(args: argparse.Namespace) -> None:
    """Sign and post a sample event to a running service, then show the curl equivalent."""
    from bot.onestop.signature import sign

    settings = _settings()
    if not settings.onestop_secrets:
        raise CommandError("SIPAS_ONESTOP_SECRETS is empty; run `make run` once or set it")
    url = (args.url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")
    now = datetime.now(settings.tz).replace(tzinfo=None)
    body = json.dumps(sample_event(args.case, args.status, now), ensure_ascii=False).encode("utf-8")
    timestamp = str(int(time.time()))
    signature = sign(settings.onestop_secrets[0], timestamp, body)
    request = urllib.request.Request(
        f"{url}/api/v1/onestop/events",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Sipas-Timestamp": timestamp,
            "X-Sipas-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read().decode("utf-8")
            print(f"HTTP {response.status}: {answer}")
    except urllib.error.HTTPError as exc:
        raise CommandError(f"HTTP {exc.code}: {exc.read().decode('utf-8', 'replace')}") from None
    except urllib.error.URLError as exc:
        raise CommandError(
            f"cannot reach {url}: {exc.reason} (is `sipas serve` running?)"
        ) from None
    print("\nRead the case back:")
    token = settings.api_token or "$SIPAS_API_TOKEN"
    print(f"  curl -H 'Authorization: Bearer {token}' {url}/api/v1/cases/{args.case}")


def _day(value: str) -> date:
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

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)

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
    """The agency report of a period: CSV on stdout, or a printable XLSX workbook."""
    from bot import report_output
    from bot.scoring_setup import question_meta
    from storage.db import create_engine
    from storage.errors import StorageError

    start: date = args.start
    end: date = args.end
    if start > end:
        raise CommandError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    output = Path(args.output) if args.output else None
    if args.format == "xlsx" and output is None:
        output = Path.cwd() / report_output.default_xlsx_name(start, end)
    if output is not None and not output.resolve().parent.is_dir():
        raise CommandError(f"cannot write {output}: no such directory {output.parent}")
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)

    async def run() -> report_output.ReportData:
        engine = create_engine(settings.database_url)
        try:
            meta = await question_meta(engine)
            return await report_output.collect(engine, start, end, meta, rule=settings.rule)
        finally:
            await engine.dispose()

    try:
        data = asyncio.run(run())
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    try:
        if args.format == "csv":
            text = report_output.to_csv(data.agencies)
            if output is None:
                sys.stdout.flush()
                sys.stdout.buffer.write(text.encode("utf-8"))
                sys.stdout.buffer.flush()
                return
            output.write_text(text, encoding="utf-8")
            written = output.resolve()
        else:
            assert output is not None
            written = report_output.write_xlsx(data, output)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"report {start.isoformat()} to {end.isoformat()} written to {written}")


def cmd_import_responses(args: argparse.Namespace) -> None:
    """Import answers from a CSV file: all rows or none (interfaces.md "Response import")."""
    from bot.clock import Clock
    from bot.importer import ImportRejected, import_file
    from storage.db import create_engine
    from storage.errors import StorageError
    from storage.imports import ImportConflict

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)
    now = Clock(settings.tz, clock_file=settings.clock_file or None).utcnow()

    async def run() -> str:
        engine = create_engine(settings.database_url)
        try:
            return str(await import_file(engine, data, tz=settings.tz, now=now))
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run())
    except ImportRejected as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        lines = len({line.split(":", 1)[0] for line in exc.errors})
        raise CommandError(
            f"{path}: {len(exc.errors)} error(s) on {lines} line(s); nothing was imported"
        ) from None
    except ImportConflict as exc:
        raise CommandError(f"{path}: {exc}") from None
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    print(f"{path}: {summary}")


def _with_services(settings: Settings, work: Any) -> Any:
    """Run `await work(services)` against the configured database, with clean errors."""
    from bot.services import build_services
    from storage.db import create_engine
    from storage.errors import StorageError

    async def run() -> Any:
        engine = create_engine(settings.database_url)
        services = await build_services(settings, engine)
        try:
            await services.surveys.ensure_form()
            return await work(services)
        finally:
            await services.close()
            await engine.dispose()

    try:
        return asyncio.run(run())
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None


def cmd_invite(args: argparse.Namespace) -> None:
    """Print a one-time deep link granting a role (head of an agency, inspector, admin)."""
    from storage.alerts import UnknownAgency

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.role == "head" and not args.agency:
        raise CommandError("a head invite needs --agency MaCoQuan")
    _migrate(settings)

    async def invite(services: Any) -> str:
        agency = args.agency if args.role == "head" else None
        payload = str(await services.alerts.invite(args.role, agency))
        await services.commands.dispatcher.audit.store.append(
            at=services.clock.utcnow(),
            actor_chat_id=None,
            actor_label="CLI (sipas invite)",
            action="invite",
            target=f"{args.role}:{agency}" if agency else args.role,
            after={"role": args.role, "agency": agency, "valid_hours": 72},
        )
        return payload

    try:
        payload = _with_services(settings, invite)
    except UnknownAgency:
        raise CommandError(f"unknown agency code {args.agency!r}") from None
    username = _bot_username(settings)
    print(f"https://t.me/{username or '<bot>'}?start={payload}")
    if not username:
        print(
            "(Telegram is not reachable or not configured: put the bot's username in place "
            "of <bot>.)",
            file=sys.stderr,
        )
    print("Valid 72 hours, single use.", file=sys.stderr)


def _bot_username(settings: Settings) -> str | None:
    if not settings.telegram_bot_token:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    async def get() -> str:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
            return bot.username

    try:
        return asyncio.run(get())
    except (TelegramError, OSError):
        return None


JOBS = ("daily-score", "digest", "monthly-report", "late-cases", "escalation")


def cmd_run_job(args: argparse.Namespace) -> None:
    """Run one scheduled job now (again, even if it already ran for this period)."""
    from bot.services import job_runner

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrate(settings)

    async def run(services: Any) -> str | None:
        return await job_runner(services, settings).run_once(args.job, force=True)

    summary = _with_services(settings, run)
    if summary is None:
        raise CommandError(f"job {args.job} failed; see the log")
    print(summary)


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
    score.add_argument("--date", type=_day, required=True, help="local day YYYY-MM-DD")
    score.set_defaults(func=cmd_score)
    report = commands.add_parser(
        "report", help="the agency report of a period (CSV on stdout, or an XLSX workbook)"
    )
    report.add_argument(
        "--from", dest="start", type=_day, required=True, help="first local day YYYY-MM-DD"
    )
    report.add_argument(
        "--to", dest="end", type=_day, required=True, help="last local day YYYY-MM-DD"
    )
    report.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    report.add_argument(
        "--output",
        metavar="FILE",
        help="write here (xlsx default: sipas-report-FROM-TO.xlsx in this directory)",
    )
    report.set_defaults(func=cmd_report)
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
    sample = commands.add_parser("send-sample", help="post a signed sample case event")
    sample.add_argument("--url", help="service base URL (default: from settings)")
    sample.add_argument("--case", default="H12.22-260101-0001", help="MaHoSo to use")
    sample.add_argument("--status", type=int, default=2, help="TrangThaiHoSo (1–10)")
    sample.set_defaults(func=cmd_send_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CommandError as exc:
        print(f"sipas {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
