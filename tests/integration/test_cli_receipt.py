"""`sipas receipt <MaHoSo>` through `main(argv)`: the SVG block for the printed receipt — the
QR code of `links.web` (read back), the link code in large type, the ways to answer of the
channels that are on — and its refusals (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.cli import main
from bot.onestop.links import format_link_code
from tests.conftest import make_settings
from tests.fakes import FakeTelegram
from tests.integration.test_qr import SVG_NS, decode, modules_of_svg, raster
from tests.support import dossier, signed

CASE = "H12.22-261001-0001"
KEY = "k0:receipt-test-key-0123456789"


def deliver(database_url: str, *, secret_key: str = KEY) -> dict[str, Any]:
    """Deliver the case through the intake endpoint; its answer (links, link code)."""

    async def run() -> dict[str, Any]:
        app = create_app(make_settings(database_url, secret_key=secret_key))
        async with TestClient(TestServer(app)) as client:
            body, headers = signed(dossier(CASE))
            response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
            assert response.status in (200, 202), await response.text()
            answer: dict[str, Any] = await response.json()
            return answer

    return asyncio.run(run())


@pytest.fixture
def env(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no developer `.env` is read
    monkeypatch.setenv("SIPAS_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIPAS_SECRET_KEY", KEY)
    monkeypatch.setenv("SIPAS_LOG_LEVEL", "ERROR")
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_OA_ID", "ZALO_OA_SECRET_KEY", "ZALO_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # The command points logging at this test's stderr: the next test starts afresh.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    return migrated_url


def texts_of(root: ET.Element) -> list[str]:
    """The block's lines of text, top to bottom."""
    return [element.text or "" for element in root.iter(f"{SVG_NS}text")]


def prose(lines: list[str]) -> str:
    """The lines read as running text (a sentence may wrap over several)."""
    return " ".join(lines)


def has_link(lines: list[str], link: str) -> bool:
    """Whether `link` is printed, on lines of its own (a long one wraps without spaces)."""
    for start, line in enumerate(lines):
        if line and link.startswith(line):
            joined = ""
            for piece in lines[start:]:
                joined += piece
                if not link.startswith(joined):
                    break
                if joined == link:
                    return True
    return False


def receipt(capsys: pytest.CaptureFixture[str]) -> ET.Element:
    assert main(["receipt", CASE]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == f"{SVG_NS}svg"
    assert root.attrib["width"] == "70mm"
    assert len(root.attrib["viewBox"].split()) == 4
    return root


def qr_of(root: ET.Element) -> str:
    """What the block's QR code says, read by a decoder from its drawn modules."""
    (symbol,) = root.findall(f"{SVG_NS}svg")
    matrix = modules_of_svg(symbol)
    [decoded] = decode(raster(matrix))
    return decoded


def test_the_block_has_the_qr_code_and_the_link_code(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = deliver(env)
    root = receipt(capsys)
    assert qr_of(root) == answer["links"]["web"]
    lines = texts_of(root)
    code = format_link_code(answer["link_code"])
    assert code in lines  # on a line of its own, in large type
    assert "Quét mã QR để theo dõi hồ sơ và đánh giá sự phục vụ." in prose(lines)
    assert f"Mã hồ sơ: {CASE}" in lines
    assert has_link(lines, answer["links"]["web"])  # for those who type it
    assert not any("Zalo" in line or "Telegram" in line for line in lines)


def test_the_zalo_oa_way_when_the_oa_is_on(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = deliver(env)
    monkeypatch.setenv("ZALO_OA_ID", "4318829910")
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", "oa-webhook-key")
    lines = texts_of(receipt(capsys))
    code = format_link_code(answer["link_code"])
    assert f"Hoặc gửi mã {code} tới Zalo OA của cơ quan:" in prose(lines)
    assert has_link(lines, "https://zalo.me/4318829910")


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """The fake Bot API on a loop of its own (the command runs its own loops)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeTelegram()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_the_telegram_deep_link_when_telegram_is_on(
    env: str,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = deliver(env)
    token = answer["links"]["web"].rsplit("/", 1)[1]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    lines = texts_of(receipt(capsys))
    assert "Hoặc nhận thông báo và khảo sát qua Telegram:" in prose(lines)
    assert has_link(lines, f"https://t.me/{fake_telegram.bot_username}?start={token}")


def test_an_unknown_case_exits_2(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    deliver(env)
    with pytest.raises(SystemExit) as exited:
        main(["receipt", "H12.22-999999-0000"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    # The last line is the command's answer (the service's own warnings may come before it).
    assert err.strip().splitlines()[-1] == "sipas receipt: unknown case H12.22-999999-0000"


def test_a_rotated_key_prints_the_old_link_and_a_retired_one_refuses(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = deliver(env)
    monkeypatch.setenv("SIPAS_SECRET_KEY", f"k1:newer-receipt-key-987654,{KEY}")
    root = receipt(capsys)
    assert qr_of(root) == answer["links"]["web"]
    assert format_link_code(answer["link_code"]) in texts_of(root)

    monkeypatch.setenv("SIPAS_SECRET_KEY", "k1:newer-receipt-key-987654")
    assert main(["receipt", CASE]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "made with a key no longer in SIPAS_SECRET_KEY" in err
    assert len(err.strip().splitlines()) == 1
