"""Structured logging: one JSON object per line on stderr (or plain text for humans)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record and its `extra=` fields as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the record (not the stream of the
    moment logging was configured, which a test harness or a daemoniser may have closed),
    unless a stream was set on purpose (`setStream`)."""

    _chosen: object = None

    @property
    def stream(self) -> object:
        return sys.stderr if self._chosen is None else self._chosen

    @stream.setter
    def stream(self, value: object) -> None:
        # StreamHandler.__init__ sets sys.stderr itself: that one stays "whatever it is".
        self._chosen = None if value is sys.stderr else value


def configure(level: str = "INFO", fmt: str = "json") -> None:
    handler = _StderrHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # At DEBUG these libraries log what they carry (updates with contacts and names, request
    # bodies, SQL parameters), so only our own code logs below their floor, whatever the level.
    for library, floor in LIBRARY_FLOORS.items():
        logging.getLogger(library).setLevel(max(root.level, floor))


LIBRARY_FLOORS = {
    "telegram": logging.INFO,
    "httpcore": logging.INFO,
    "aiohttp": logging.INFO,
    "asyncpg": logging.INFO,
    "aiosqlite": logging.INFO,
    "apscheduler": logging.INFO,
    "alembic": logging.INFO,
    "asyncio": logging.INFO,
    "matplotlib": logging.INFO,
    "PIL": logging.INFO,
    # INFO of the engine is every statement with its parameters (SQLAlchemy's own default).
    "sqlalchemy": logging.WARNING,
    # INFO of httpx is every request URL, and a Bot API URL holds the bot token.
    "httpx": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "apscheduler.executors.default": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
}
