"""One-time role invites: created by an admin, redeemed once from a chat into a role grant.

Only the invite token's hash is stored. Redeeming marks the invite used and writes (or revives)
the grant in one transaction, so an invite can never grant twice. Times are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import dialect_insert
from storage.errors import StorageError, translate_errors
from storage.models import Agency, RoleGrant, RoleInvite

invites_t = RoleInvite.__table__  # type: ignore[attr-defined]
grants_t = RoleGrant.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]


class UnknownAgency(StorageError):
    """The agency code names no agency."""


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What an invite did: `role`/`agency_code` on success, else `refusal` says why."""

    role: str | None = None
    agency_code: str | None = None
    agency_name: str | None = None
    refusal: str | None = None


class InviteStore:
    """Role invites and the grants they make; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)

    async def create_invite(
        self,
        *,
        role: str,
        agency_code: str | None,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store an invite; `UnknownAgency` when `agency_code` names no agency."""
        with translate_errors():
            async with self.engine.begin() as conn:
                if agency_code is not None:
                    known = (
                        await conn.execute(
                            select(agencies_t.c.code).where(agencies_t.c.code == agency_code)
                        )
                    ).first()
                    if known is None:
                        raise UnknownAgency(agency_code)
                await conn.execute(
                    invites_t.insert().values(
                        token_hash=token_hash,
                        role=role,
                        agency_code=agency_code,
                        created_at=now,
                        expires_at=expires_at,
                    )
                )

    async def redeem(self, token_hash: str, chat_id: int, *, now: datetime) -> Redeemed:
        """Use an invite once: grant its role to the chat, or say why not."""
        with translate_errors():
            async with self.engine.begin() as conn:
                used = (
                    await conn.execute(
                        update(invites_t)
                        .where(
                            invites_t.c.token_hash == token_hash,
                            invites_t.c.used_at.is_(None),
                            invites_t.c.expires_at > now,
                        )
                        .values(used_at=now, used_by_chat_id=chat_id)
                        .returning(invites_t.c.role, invites_t.c.agency_code)
                    )
                ).first()
                if used is None:
                    found = (
                        await conn.execute(
                            select(invites_t.c.used_at).where(invites_t.c.token_hash == token_hash)
                        )
                    ).first()
                    if found is None:
                        return Redeemed(refusal="invite_unknown")
                    return Redeemed(refusal="invite_used" if found.used_at else "invite_expired")
                grant = self._insert(grants_t).values(
                    chat_id=chat_id,
                    role=used.role,
                    agency_code=used.agency_code or "",
                    granted_at=now,
                )
                await conn.execute(
                    grant.on_conflict_do_update(
                        index_elements=["chat_id", "role", "agency_code"],
                        set_={"revoked_at": None, "granted_at": now},
                    )
                )
                name = None
                if used.agency_code:
                    name = (
                        await conn.execute(
                            select(agencies_t.c.name).where(agencies_t.c.code == used.agency_code)
                        )
                    ).scalar()
        return Redeemed(role=used.role, agency_code=used.agency_code, agency_name=name)
