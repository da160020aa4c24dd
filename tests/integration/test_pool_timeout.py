"""A connection that does not come free in time is "unavailable", not an unexpected error."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import create_engine
from storage.errors import StorageUnavailable, translate_errors


async def test_a_pool_checkout_timeout_is_storage_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_timeout=0.2)
    try:
        async with engine.connect():
            with pytest.raises(StorageUnavailable), translate_errors():
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
