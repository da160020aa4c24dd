"""Fixtures shared by the integration modules."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.zns_rig import start

__all__ = ["cli_env", "start"]


@pytest.fixture
def cli_env(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory and an environment naming only the test's database; the logging
    and umask the command changes are put back afterwards."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SIPAS_", "TELEGRAM_", "ZALO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPAS_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIPAS_LOG_FORMAT", "text")
    monkeypatch.setenv("SIPAS_LOG_LEVEL", "WARNING")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield tmp_path
    finally:
        os.umask(umask)
        root.handlers[:] = handlers
        root.setLevel(level)
