"""The channels' own state: each user's last interaction, a platform's sealed token pair,
billable replies per agency and month.

- `ActivityStore`: when a user last wrote, tapped or followed (Zalo OA reply windows are
  counted from it) and whether they follow the account.
- `TokenStore`: the token pair a platform rotates (the Zalo OA's refresh token is single use).
  `rotate` leases the row (`refreshing_until`, in a short transaction) while the caller asks
  the platform for a new pair and stores the answer the moment it has it, so a restart or a
  second replica never uses a refresh token that was already spent, and no transaction (nor
  SQLite's write lock) is held while the platform answers. Sealing is the caller's business:
  this module never sees a token in clear.
- `BillableStore`: replies sent inside a paid window, per agency and local month.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.channel_models import BillableReply, ChannelToken, ChatActivity
from storage.columns import utcnow
from storage.db import dialect_insert, is_sqlite
from storage.errors import StorageError, translate_errors
from storage.models import Case, CaseLink, Chat

activity_t = ChatActivity.__table__  # type: ignore[attr-defined]
tokens_t = ChannelToken.__table__  # type: ignore[attr-defined]
billable_t = BillableReply.__table__  # type: ignore[attr-defined]
links_t = CaseLink.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]

# How long one refresh may hold a token pair's lease: longer than the refresh call can take
# (the OA client's timeout is 10 s), so a lease only runs out when its holder died.
REFRESH_LEASE = timedelta(seconds=60)
LEASE_POLL_SECONDS = 0.05  # how often a process waiting for another's refresh looks again
_LEASE_STATE = select(tokens_t.c.version, tokens_t.c.refreshing_until).where(
    tokens_t.c.name == bindparam("name")
)


@dataclass(frozen=True, slots=True)
class Activity:
    last_inbound_at: datetime
    followed: bool
    asked_phone_at: datetime | None = None  # when the user was asked to share their phone


class ActivityStore:
    """Each channel user's last interaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = dialect_insert(engine)
        stmt = insert(activity_t).values(
            channel=bindparam("channel"),
            external_id=bindparam("external_id"),
            last_inbound_at=bindparam("at"),
            followed=bindparam("followed"),
        )
        self._touch = stmt.on_conflict_do_update(
            index_elements=["channel", "external_id"],
            set_={
                "last_inbound_at": func.max(
                    activity_t.c.last_inbound_at, stmt.excluded.last_inbound_at
                )
                if is_sqlite(str(engine.url))
                else func.greatest(activity_t.c.last_inbound_at, stmt.excluded.last_inbound_at),
                "followed": stmt.excluded.followed,
            },
        )
        self._read = select(
            activity_t.c.last_inbound_at, activity_t.c.followed, activity_t.c.asked_phone_at
        ).where(
            activity_t.c.channel == bindparam("channel"),
            activity_t.c.external_id == bindparam("external_id"),
        )
        self._ask_phone = (
            update(activity_t)
            .where(
                activity_t.c.channel == bindparam("b_channel"),
                activity_t.c.external_id == bindparam("b_external_id"),
                activity_t.c.asked_phone_at.is_(None),
            )
            .values(asked_phone_at=bindparam("b_now"))
        )

    async def touch(
        self, channel: str, external_id: str, *, at: datetime, followed: bool = True
    ) -> None:
        """The user interacted at `at` (a later time never goes back); `followed=False` for
        an unfollow."""
        params = {"channel": channel, "external_id": external_id, "at": at, "followed": followed}
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(self._touch, params)

    async def activity(self, channel: str, external_id: str) -> Activity | None:
        params = {"channel": channel, "external_id": external_id}
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(self._read, params)).first()
        return None if row is None else Activity(row[0], bool(row[1]), row[2])

    async def mark_asked_phone(self, channel: str, external_id: str, *, now: datetime) -> bool:
        """Note that the user is being asked for their phone; True the first time only (a user
        with no activity row yet is never asked: `touch` comes first)."""
        params = {"b_channel": channel, "b_external_id": external_id, "b_now": now}
        with translate_errors():
            async with self.engine.begin() as conn:
                result = await conn.execute(self._ask_phone, params)
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class SealedTokens:
    """A stored token pair, sealed (`key_id` names the key that sealed it)."""

    key_id: str
    sealed: str
    access_expires_at: datetime
    version: int
    dead: bool


class Rotation:
    """One refresh of a token pair under the row's lease (`TokenStore.rotate`): `current` is
    the stored pair, `replace` stores the platform's answer, `dead` marks the pair refused for
    good. Each writes in a short transaction of its own, only over the version read."""

    def __init__(self, store: TokenStore, name: str, current: SealedTokens | None) -> None:
        self._store = store
        self._name = name
        self.current = current
        self.done = False  # replace or dead wrote: the lease ended with it

    async def replace(
        self, *, key_id: str, sealed: str, access_expires_at: datetime, now: datetime
    ) -> bool:
        """Store the new pair and end the lease; False if the stored pair changed meanwhile
        (only possible once the lease ran out: another process took it)."""
        values = {
            "key_id": key_id,
            "sealed": sealed,
            "access_expires_at": access_expires_at,
            "refreshed_at": now,
            "dead_at": None,
            "refreshing_until": None,
        }
        current = self.current
        with translate_errors():
            async with self._store.engine.begin() as conn:
                if current is None:
                    await conn.execute(
                        tokens_t.insert().values(name=self._name, version=1, **values)
                    )
                    written = True
                else:
                    result = await conn.execute(
                        update(tokens_t)
                        .where(tokens_t.c.name == self._name, tokens_t.c.version == current.version)
                        .values(version=tokens_t.c.version + 1, **values)
                    )
                    written = bool(result.rowcount)
        self.done = True
        return written

    async def dead(self, *, now: datetime) -> None:
        """The pair can never be refreshed again (the platform refused it for good)."""
        current = self.current
        if current is not None:
            with translate_errors():
                async with self._store.engine.begin() as conn:
                    await conn.execute(
                        update(tokens_t)
                        .where(tokens_t.c.name == self._name, tokens_t.c.version == current.version)
                        .values(dead_at=now, refreshing_until=None)
                    )
        self.done = True


class TokenStore:
    """A platform's sealed token pair, one row per name (e.g. `zalo_oa:<oa id>`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease: timedelta = REFRESH_LEASE,
        poll: float = LEASE_POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(str(engine.url))
        self._lease = lease
        self._poll = poll
        self.lease_waits = 0  # times this store found another process's lease and waited

    @staticmethod
    def _row(row: Any) -> SealedTokens | None:
        if row is None:
            return None
        return SealedTokens(str(row[0]), str(row[1]), row[2], int(row[3]), row[4] is not None)

    def _select(self, name: str) -> Select[Any]:
        return select(
            tokens_t.c.key_id,
            tokens_t.c.sealed,
            tokens_t.c.access_expires_at,
            tokens_t.c.version,
            tokens_t.c.dead_at,
            tokens_t.c.refreshing_until,
        ).where(tokens_t.c.name == name)

    async def load(self, name: str) -> SealedTokens | None:
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(self._select(name))).first()
        return self._row(row)

    async def _claim(self, name: str, now: datetime) -> tuple[bool, Any]:
        """Take the row's lease unless another process holds one; (taken, the row)."""
        with translate_errors():
            async with self.engine.begin() as conn:
                if self._sqlite:
                    # Take SQLite's write lock first: a second claimer waits here, then sees
                    # the lease the first one wrote.
                    await conn.execute(
                        update(tokens_t).where(tokens_t.c.name == name).values(name=name)
                    )
                    stmt = self._select(name)
                else:
                    stmt = self._select(name).with_for_update()
                row = (await conn.execute(stmt)).first()
                if row is None:
                    return True, None  # nothing to lease: the first pair's insert decides
                leased = row[5]
                if leased is not None and leased > now:
                    return False, row
                await conn.execute(
                    update(tokens_t)
                    .where(tokens_t.c.name == name)
                    .values(refreshing_until=now + self._lease)
                )
                return True, row

    @contextlib.asynccontextmanager
    async def rotate(
        self, name: str, *, now: Callable[[], datetime] = utcnow
    ) -> AsyncIterator[Rotation]:
        """The row leased for one refresh (`refreshing_until`, `REFRESH_LEASE` ahead): the
        caller reads `current`, asks the platform and `replace`s the pair, with no database
        transaction open while the platform answers. Another process wanting to refresh
        waits for the lease to end (the new pair stored, or the lease run out after a crash)
        and then reads what was stored; a lease left unused is given back on exit.

        `now` is the caller's clock for the lease (naive UTC); the wait also ends after the
        lease's length of real time, whatever that clock says."""
        give_up = time.monotonic() + self._lease.total_seconds()
        while True:
            taken, row = await self._claim(name, now())
            if taken or time.monotonic() >= give_up:
                break
            seen = row[3]
            self.lease_waits += 1
            while time.monotonic() < give_up:
                await asyncio.sleep(self._poll)
                if await self._lease_ended(name, seen, now()):
                    break
        rotation = Rotation(self, name, self._row(row))
        try:
            yield rotation
        finally:
            if not rotation.done and row is not None:
                await self._give_back(name, rotation)

    async def _lease_ended(self, name: str, version: int, now: datetime) -> bool:
        """Whether the lease seen on the row at `version` is over: the pair was stored (a new
        version, or the row gone), or the lease was given back or ran out. One read."""
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(_LEASE_STATE, {"name": name})).first()
        return row is None or row[0] != version or row[1] is None or row[1] <= now

    async def _give_back(self, name: str, rotation: Rotation) -> None:
        """End an unused lease (the caller adopted a newer pair, or its refresh failed)."""
        current = rotation.current
        assert current is not None
        with contextlib.suppress(StorageError), translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(tokens_t)
                    .where(tokens_t.c.name == name, tokens_t.c.version == current.version)
                    .values(refreshing_until=None)
                )


class BillableStore:
    """Counts replies sent inside a paid window, per channel, agency and month."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = dialect_insert(engine)
        stmt = insert(billable_t).values(
            channel=bindparam("channel"),
            agency_code=bindparam("agency_code"),
            month=bindparam("month"),
            count=1,
        )
        self._add = stmt.on_conflict_do_update(
            index_elements=["channel", "agency_code", "month"],
            set_={"count": billable_t.c.count + 1},
        )
        # The agency of the case the chat linked most recently ("" for a chat with none).
        self._agency = (
            select(cases_t.c.agency_code)
            .select_from(
                links_t.join(chats_t, chats_t.c.id == links_t.c.chat_id).join(
                    cases_t, cases_t.c.code == links_t.c.case_code
                )
            )
            .where(
                chats_t.c.channel == bindparam("channel"),
                chats_t.c.external_id == bindparam("external_id"),
            )
            .order_by(links_t.c.linked_at.desc())
            .limit(1)
        )

    async def add(self, channel: str, external_id: str, *, month: str) -> str:
        """Count one billable reply to the chat; the agency it was counted for."""
        with translate_errors():
            async with self.engine.begin() as conn:
                found = (
                    await conn.execute(
                        self._agency, {"channel": channel, "external_id": external_id}
                    )
                ).first()
                agency = "" if found is None else str(found[0])
                await conn.execute(
                    self._add, {"channel": channel, "agency_code": agency, "month": month}
                )
        return agency

    async def counts(self, channel: str) -> list[tuple[str, str, int]]:
        """(agency code, month, count) of the channel, by month then agency."""
        stmt = (
            select(billable_t.c.agency_code, billable_t.c.month, billable_t.c.count)
            .where(billable_t.c.channel == channel)
            .order_by(billable_t.c.month, billable_t.c.agency_code)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [(row[0], row[1], int(row[2])) for row in rows]

    async def add_for_agency(self, channel: str, agency_code: str, *, month: str) -> None:
        """Count one billable message of the channel for an agency (ZNS: every accepted
        template message, for the agency of its case) in `month` (`YYYY-MM`, local)."""
        params = {"channel": channel, "agency_code": agency_code, "month": month}
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(self._add, params)
