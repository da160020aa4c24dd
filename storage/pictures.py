"""Pictures a platform fetches by URL (`hosted_pictures`): stored under the SHA-256 of their
token until they expire; each new picture also deletes the expired ones (no job needed).
Times are naive UTC; statements are built once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.channel_models import HostedPicture
from storage.errors import translate_errors

pictures_t = HostedPicture.__table__  # type: ignore[attr-defined]

_PUT = insert(pictures_t).values(
    token_hash=bindparam("token_hash"),
    png=bindparam("png"),
    created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)
_EXPIRED = delete(pictures_t).where(pictures_t.c.expires_at <= bindparam("now"))
_GET = select(pictures_t.c.png).where(
    pictures_t.c.token_hash == bindparam("token_hash"),
    pictures_t.c.expires_at > bindparam("now"),
)


class PictureStore:
    """Hosted pictures by token hash."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, token_hash: str, png: bytes, *, now: datetime, expires_at: datetime) -> int:
        """Keep `png` until `expires_at`; how many expired pictures were deleted with it."""
        params = {"token_hash": token_hash, "png": png, "now": now, "expires_at": expires_at}
        with translate_errors():
            async with self.engine.begin() as conn:
                purged = (await conn.execute(_EXPIRED, {"now": now})).rowcount
                await conn.execute(_PUT, params)
        return int(purged or 0)

    async def get(self, token_hash: str, *, now: datetime) -> bytes | None:
        """The picture, while it has not expired."""
        with translate_errors():
            async with self.engine.connect() as conn:
                found = (await conn.execute(_GET, {"token_hash": token_hash, "now": now})).scalar()
        return None if found is None else bytes(found)


__all__ = ["PictureStore"]
