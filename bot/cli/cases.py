"""`sipas send-sample`, `sipas import-responses` and `sipas invite`: cases, answers and people
put in by hand."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.channels.links import CHANNEL_TITLES, ChannelLinks, Link
from bot.cli.base import CommandError, load_settings, migrate_database, prepare, with_services
from bot.config import Settings
from bot.logs import configure as configure_logging


def sample_event(case_code: str, status: int, now: datetime) -> dict[str, object]:
    """A one-stop case event as the provincial system sends it (interfaces.md)."""
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

    settings = load_settings()
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
    settings = prepare()
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


def cmd_invite(args: argparse.Namespace) -> None:
    """Print a one-time deep link granting a role (head of an agency, inspector, admin)."""
    from storage.invites import UnknownAgency

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.role == "head" and not args.agency:
        raise CommandError("a head invite needs --agency MaCoQuan")
    migrate_database(settings)

    links = _channel_links(settings)

    codes: list[str] = []

    async def invite(services: Any) -> list[Link]:
        agency = args.agency if args.role == "head" else None
        payload = str(await services.invites.invite(args.role, agency))
        codes.append(payload)
        await services.commands.dispatcher.audit.store.append(
            at=services.clock.utcnow(),
            actor_chat_id=None,
            actor_label="CLI (sipas invite)",
            action="invite",
            target=f"{args.role}:{agency}" if agency else args.role,
            after={"role": args.role, "agency": agency, "valid_hours": 72},
        )
        return links.drafts(payload)

    try:
        drafts = with_services(settings, invite, links=links)
    except UnknownAgency:
        raise CommandError(f"unknown agency code {args.agency!r}") from None
    (code,) = codes
    for draft in drafts:
        print(draft.url)
    if links.typed:
        where = " / ".join(CHANNEL_TITLES[name] for name in links.typed)
        print(f"{code}  (on {where}: the invitee sends this code to the agency's account)")
    if not all(draft.ready for draft in drafts):
        print(
            "(Telegram is not reachable or not configured: put the bot's username in place "
            "of <bot>.)",
            file=sys.stderr,
        )
    print("Valid 72 hours, single use.", file=sys.stderr)


def _channel_links(settings: Settings) -> ChannelLinks:
    """The deep links of the configured channels, their addresses asked of each platform."""
    from bot.telegram.identity import fetch_username
    from bot.telegram.links import TelegramLinks

    username = asyncio.run(
        fetch_username(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    )
    typed = settings.typed_code_channels
    if typed and not settings.telegram_bot_token:
        return ChannelLinks({}, typed=typed)
    return ChannelLinks({"telegram": TelegramLinks(username)}, typed=typed)
