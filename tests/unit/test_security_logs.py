"""At SIPAS_LOG_LEVEL=DEBUG only our own code logs debug records; libraries stay at INFO+."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import logs

LIBRARIES = [
    "telegram.ext.Updater",
    "httpx",
    "httpcore.http11",
    "aiohttp.access",
    "aiohttp.server",
    "sqlalchemy.engine.Engine",
    "asyncpg",
    "aiosqlite",
    "apscheduler.scheduler",
]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What `logs.configure` writes, and the logging setup restored afterwards."""
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    names = {*LIBRARIES, *(name.split(".")[0] for name in LIBRARIES), "telegram.ext"}
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(root_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def configure(level: str, stream: io.StringIO) -> None:
    logs.configure(level, "text")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


@pytest.mark.parametrize("library", LIBRARIES)
def test_library_debug_records_are_not_written_at_debug(
    captured: io.StringIO, library: str
) -> None:
    configure("DEBUG", captured)
    logging.getLogger(library).debug("update with contact +84912345678")
    logging.getLogger("bot.survey.service").debug("our own debug line")
    written = captured.getvalue()
    assert "+84912345678" not in written
    assert "our own debug line" in written


def test_sql_statements_and_request_urls_are_not_written_even_at_info(
    captured: io.StringIO,
) -> None:
    configure("DEBUG", captured)
    logging.getLogger("sqlalchemy.engine.Engine").info("[generated] ('0912345678',)")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot123:SECRET/x")
    logging.getLogger("telegram.ext.Application").info("Application started")
    written = captured.getvalue()
    assert "0912345678" not in written and "SECRET" not in written
    assert "Application started" in written


def test_a_higher_level_still_applies_to_libraries(captured: io.StringIO) -> None:
    configure("ERROR", captured)
    logging.getLogger("telegram").warning("a warning")
    assert "a warning" not in captured.getvalue()
