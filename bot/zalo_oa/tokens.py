"""The Zalo OA's rotating token pair: the access token every call carries, refreshed before it
expires and whenever Zalo refuses it.

Zalo's refresh token is single use and each refresh kills the old access token, so the pair
lives in the database (`TokenStore`, sealed with purpose `zalo-oa-tokens`) and every refresh
happens inside `TokenStore.rotate`, the row leased: the new pair is stored the moment it is
received, and no database transaction is open while Zalo answers. A process that finds the
stored `version` changed since it read the row knows another process refreshed and takes that
pair instead of spending a refresh token twice. The pair from the settings is used (and
stored) only while the database has none.

A refresh the OAuth endpoint refuses marks the row dead, calls `on_dead` (the composition root
alerts the admins and stops the channel) and makes every later call raise `TokensDead`; a
refresh that merely failed this time raises `ZaloOAUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.sealing import Sealer, SealError
from bot.zalo_oa import CHANNEL
from bot.zalo_oa.client import OAClient, RefreshRefused, ZaloOAError, ZaloOAUnavailable
from storage.channel_state import SealedTokens, TokenStore

log = logging.getLogger(__name__)

TOKEN_PURPOSE = "zalo-oa-tokens"
REFRESH_MARGIN = timedelta(hours=1)  # refresh when less than this remains
# The settings' access token carries no expiry: assume a fresh one (Zalo's live about 25 h);
# a token error refreshes it sooner if it is older.
SETTINGS_LIFETIME = timedelta(hours=25)
# After an early refresh failed for a passing reason, keep using the valid token this long
# before trying again (instead of on every send).
EARLY_RETRY = timedelta(minutes=1)

OnDead = Callable[[str], Awaitable[None]]


class TokensDead(ZaloOAError):
    """No usable token pair: refused for good, unreadable, or none configured."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"token dead: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str

    def __repr__(self) -> str:  # never show the tokens
        return "TokenPair(…)"


def token_row_name(oa_id: str) -> str:
    return f"{CHANNEL}:{oa_id}"


class OATokens:
    """The OA's current access token, shared by every send of this process."""

    def __init__(
        self,
        client: OAClient,
        store: TokenStore,
        sealer: Sealer,
        *,
        oa_id: str,
        initial: TokenPair | None,
        now: Callable[[], datetime],
        on_dead: OnDead | None = None,
        refresh_margin: timedelta = REFRESH_MARGIN,
        settings_lifetime: timedelta = SETTINGS_LIFETIME,
    ) -> None:
        self._client = client
        self._store = store
        self._sealer = sealer
        self.name = token_row_name(oa_id)
        self._initial = initial
        self._now = now
        self._on_dead = on_dead
        self._margin = refresh_margin
        self._settings_lifetime = settings_lifetime
        self._lock = asyncio.Lock()
        self._pair: TokenPair | None = None
        self._expires_at: datetime | None = None
        self._version: int | None = None  # the stored row's version our pair came from
        self._not_before: datetime | None = None  # no early refresh before this
        self._dead: str | None = None
        self.refreshes = 0  # refreshes this process made

    @property
    def dead(self) -> bool:
        return self._dead is not None

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    async def access_token(self) -> str:
        """The access token to call with (refreshed first when it is about to expire)."""
        self._check_alive()
        if self._pair is None or self._due():
            async with self._lock:
                self._check_alive()
                try:
                    await self._ensure_fresh()
                except TokensDead as exc:
                    await self._die(exc.reason)
                    raise
        assert self._pair is not None
        return self._pair.access_token

    async def renew(self, rejected: str) -> str:
        """A new access token after Zalo refused `rejected` (unless another caller or
        process already replaced it: then that one)."""
        self._check_alive()
        async with self._lock:
            self._check_alive()
            try:
                if self._pair is None:
                    await self._load()
                assert self._pair is not None
                if self._pair.access_token == rejected:
                    await self._refresh(rejected=rejected)
            except TokensDead as exc:
                await self._die(exc.reason)
                raise
        return self._pair.access_token

    # ----------------------------------------------------------------------------- internals

    def _check_alive(self) -> None:
        if self._dead is not None:
            raise TokensDead(self._dead)

    def _due(self) -> bool:
        if self._expires_at is None:
            return False
        now = self._now()
        if self._not_before is not None and now < self._not_before and now < self._expires_at:
            return False
        return now >= self._expires_at - self._margin

    async def _ensure_fresh(self) -> None:
        if self._pair is None:
            await self._load()
        if not self._due():
            return
        try:
            await self._refresh(rejected=None)
        except ZaloOAUnavailable as exc:
            now = self._now()
            if self._expires_at is None or now >= self._expires_at:
                raise
            self._not_before = now + EARLY_RETRY
            log.warning("zalo oa early token refresh failed", extra={"error": str(exc)})

    async def _load(self) -> None:
        row = await self._store.load(self.name)
        if row is None:
            await self._seed()
        elif row.dead and self._configured_anew(row):
            await self._seed(replacing_dead=True)
        else:
            self._adopt(row)

    def _configured_anew(self, row: SealedTokens) -> bool:
        """Whether the settings hold a pair other than the dead one stored (an operator
        issued a new pair after the old one died): that one is used from now on."""
        if self._initial is None:
            return False
        try:
            stored = json.loads(self._sealer.open(row.sealed)).get("refresh_token")
        except (SealError, ValueError, AttributeError):
            return True
        return bool(stored != self._initial.refresh_token)

    async def _seed(self, *, replacing_dead: bool = False) -> None:
        """Store the settings' pair as the first one (no row yet, or only a dead one)."""
        if self._initial is None:
            raise TokensDead("no token pair configured (ZALO_OA_ACCESS_TOKEN, _REFRESH_TOKEN)")
        now = self._now()
        expires = now + self._settings_lifetime
        try:
            async with self._store.rotate(self.name, now=self._now) as rotation:
                current = rotation.current
                if current is not None and not (replacing_dead and current.dead):
                    self._adopt(current)
                    return
                await rotation.replace(
                    key_id=self._sealer.key_id,
                    sealed=self._seal(self._initial),
                    access_expires_at=expires,
                    now=now,
                )
        except IntegrityError:
            # Another replica stored its first pair at the same moment (PostgreSQL locks no
            # missing row): use that one.
            row = await self._store.load(self.name)
            if row is None:
                raise
            self._adopt(row)
            return
        version = (
            1 if not replacing_dead or rotation.current is None else rotation.current.version + 1
        )
        self._pair, self._expires_at, self._version = self._initial, expires, version
        if replacing_dead:
            log.info("zalo oa: a newly configured token pair replaces the dead one")

    async def _refresh(self, *, rejected: str | None) -> None:
        """Refresh under the row's lease, unless the stored pair changed since we read it."""
        assert self._pair is not None
        refused: RefreshRefused | None = None
        written = True
        async with self._store.rotate(self.name, now=self._now) as rotation:
            current = rotation.current
            pair = self._pair
            if current is not None:
                if current.dead:
                    raise TokensDead("the stored token pair is dead")
                if current.version != self._version:
                    self._adopt(current)
                    if rejected is None or self._pair.access_token != rejected:
                        return
                    pair = self._pair
            now = self._now()
            try:
                answer = await self._client.refresh(pair.refresh_token)
            except RefreshRefused as exc:
                await rotation.dead(now=now)
                refused = exc
            else:
                renewed = TokenPair(answer.access_token, answer.refresh_token)
                expires = now + timedelta(seconds=answer.expires_in)
                written = await rotation.replace(
                    key_id=self._sealer.key_id,
                    sealed=self._seal(renewed),
                    access_expires_at=expires,
                    now=now,
                )
                version = 1 if current is None else current.version + 1
        if refused is not None:
            raise TokensDead(f"the refresh token was refused ({refused.error})")
        if not written:
            # Our lease ran out and another process stored a pair meanwhile: that one counts.
            log.error("zalo oa tokens changed during a refresh; using the stored pair")
            row = await self._store.load(self.name)
            if row is None:
                raise TokensDead("the token pair disappeared during a refresh")
            self._adopt(row)
            return
        self._pair, self._expires_at, self._version = renewed, expires, version
        self._not_before = None
        self.refreshes += 1
        log.info("zalo oa tokens refreshed", extra={"expires_at": expires.isoformat()})

    def _adopt(self, row: SealedTokens) -> None:
        """Use a stored pair (raises `TokensDead` if it is dead or cannot be opened)."""
        if row.dead:
            raise TokensDead("the stored token pair is dead")
        try:
            data = json.loads(self._sealer.open(row.sealed))
            pair = TokenPair(str(data["access_token"]), str(data["refresh_token"]))
        except (SealError, ValueError, KeyError, TypeError) as exc:
            raise TokensDead("the stored token pair cannot be opened") from exc
        self._pair, self._expires_at, self._version = pair, row.access_expires_at, row.version
        self._not_before = None

    def _seal(self, pair: TokenPair) -> str:
        plain = {"access_token": pair.access_token, "refresh_token": pair.refresh_token}
        return self._sealer.seal(json.dumps(plain))

    async def _die(self, reason: str) -> None:
        if self._dead is not None:
            return
        self._dead = reason
        self._pair = None
        log.error("zalo oa token pair is dead", extra={"reason": reason})
        if self._on_dead is not None:
            try:
                await self._on_dead(reason)
            except Exception:
                log.exception("the zalo oa on_dead callback failed")
