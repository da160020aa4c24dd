"""Who holds which role, and the agency tree as administrators see and shape it.

Grants come from one-time invites (`storage.invites.InviteStore.redeem`); here they are read per
message (so a revocation applies to the very next message), listed and revoked. A head's scope
is the agencies granted plus every descendant at any depth (a recursive CTE). Times are naive
UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.errors import translate_errors
from storage.models import Agency, Chat, RoleGrant

grants_t = RoleGrant.__table__  # type: ignore[attr-defined]
agencies_t = Agency.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class GrantRow:
    chat_id: int
    channel: str
    external_id: str
    role: str
    agency_code: str  # '' for roles without an agency
    granted_at: datetime
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyRow:
    code: str
    name: str
    parent_code: str | None
    alert_threshold: float | None
    min_sample: int | None
    zns_survey: str | None = None  # "rating", "invite" or None (the parent's choice)


class RoleStore:
    """Grants, scopes and agency-tree edits; one instance per engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- grants ----------------------------------------------------------------------------

    async def grants_of(self, chat_id: int) -> list[tuple[str, str]]:
        """The chat's live grants as (role, agency_code)."""
        stmt = select(grants_t.c.role, grants_t.c.agency_code).where(
            grants_t.c.chat_id == chat_id, grants_t.c.revoked_at.is_(None)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [(str(r[0]), str(r[1])) for r in (await conn.execute(stmt)).all()]

    async def role_chats(self, role: str, agency_code: str = "") -> list[int]:
        """Chats holding `role` (for `agency_code`), not revoked and not blocked."""
        stmt = (
            select(grants_t.c.chat_id)
            .join(chats_t, chats_t.c.id == grants_t.c.chat_id)
            .where(
                grants_t.c.role == role,
                grants_t.c.agency_code == agency_code,
                grants_t.c.revoked_at.is_(None),
                chats_t.c.blocked_at.is_(None),
            )
            .order_by(grants_t.c.chat_id)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [int(r[0]) for r in (await conn.execute(stmt)).all()]

    async def chats_of(self, channel: str, external_ids: Sequence[str]) -> list[int]:
        """Chats (that wrote to the bot at least once, not blocked) with these channel ids."""
        if not external_ids:
            return []
        stmt = select(chats_t.c.id).where(
            chats_t.c.channel == channel,
            chats_t.c.external_id.in_(list(external_ids)),
            chats_t.c.blocked_at.is_(None),
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [int(r[0]) for r in (await conn.execute(stmt)).all()]

    async def heads_with_agencies(self) -> list[tuple[int, str]]:
        """Every live head grant as (chat, agency)."""
        stmt = select(grants_t.c.chat_id, grants_t.c.agency_code).where(
            grants_t.c.role == "head", grants_t.c.revoked_at.is_(None)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                return [(int(r[0]), str(r[1])) for r in (await conn.execute(stmt)).all()]

    async def descendants(self, roots: Sequence[str]) -> set[str]:
        """The agencies in `roots` (that exist) and every agency below them, at any depth."""
        if not roots:
            return set()
        base = select(agencies_t.c.code.label("code")).where(agencies_t.c.code.in_(list(roots)))
        tree = base.cte("tree", recursive=True)
        tree = tree.union(select(agencies_t.c.code).where(agencies_t.c.parent_code == tree.c.code))
        with translate_errors():
            async with self.engine.connect() as conn:
                return {str(r[0]) for r in (await conn.execute(select(tree.c.code))).all()}

    async def live_grants(
        self, roles: Sequence[str] = ("head", "inspector", "admin")
    ) -> list[GrantRow]:
        """Every non-revoked grant of these roles with its chat, by role, agency and chat."""
        stmt = (
            select(
                grants_t.c.chat_id,
                chats_t.c.channel,
                chats_t.c.external_id,
                grants_t.c.role,
                grants_t.c.agency_code,
                grants_t.c.granted_at,
                chats_t.c.display_name,
            )
            .join(chats_t, chats_t.c.id == grants_t.c.chat_id)
            .where(grants_t.c.revoked_at.is_(None), grants_t.c.role.in_(list(roles)))
            .order_by(grants_t.c.role, grants_t.c.agency_code, grants_t.c.chat_id)
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [
            GrantRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), r[5], r[6])
            for r in rows
        ]

    async def chat_id(self, channel: str, external_id: str) -> int | None:
        stmt = select(chats_t.c.id).where(
            chats_t.c.channel == channel, chats_t.c.external_id == external_id
        )
        with translate_errors():
            async with self.engine.connect() as conn:
                found = (await conn.execute(stmt)).scalar()
        return None if found is None else int(found)

    async def chat_ref(self, chat_id: int) -> tuple[str, str, str, str] | None:
        """(channel, external id, language, display name or '') of a chat."""
        stmt = select(
            chats_t.c.channel, chats_t.c.external_id, chats_t.c.language, chats_t.c.display_name
        ).where(chats_t.c.id == chat_id)
        with translate_errors():
            async with self.engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), row[3] or "")

    async def remember_name(self, chat_id: int, name: str) -> None:
        """Keep a role holder's display name (written only when it changed)."""
        stmt = (
            update(chats_t)
            .where(
                chats_t.c.id == chat_id,
                or_(chats_t.c.display_name.is_(None), chats_t.c.display_name != name),
            )
            .values(display_name=name[:200])
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                await conn.execute(stmt)

    async def revoke(self, chat_id: int, role: str, agency_code: str, *, now: datetime) -> bool:
        """Revoke one live grant; False when there was none."""
        stmt = (
            update(grants_t)
            .where(
                grants_t.c.chat_id == chat_id,
                grants_t.c.role == role,
                grants_t.c.agency_code == agency_code,
                grants_t.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        with translate_errors():
            async with self.engine.begin() as conn:
                return bool((await conn.execute(stmt)).rowcount)

    # -- the agency tree -------------------------------------------------------------------

    async def agencies(self) -> list[AgencyRow]:
        return await self._agencies(None)

    async def agency(self, code: str) -> AgencyRow | None:
        return next(iter(await self._agencies(code)), None)

    async def _agencies(self, code: str | None) -> list[AgencyRow]:
        stmt = select(
            agencies_t.c.code,
            agencies_t.c.name,
            agencies_t.c.parent_code,
            agencies_t.c.alert_threshold,
            agencies_t.c.min_sample,
            agencies_t.c.zns_survey,
        ).order_by(agencies_t.c.code)
        if code is not None:
            stmt = stmt.where(agencies_t.c.code == code)
        with translate_errors():
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [
            AgencyRow(
                str(r[0]),
                str(r[1]),
                None if r[2] is None else str(r[2]),
                None if r[3] is None else float(r[3]),
                None if r[4] is None else int(r[4]),
                None if r[5] is None else str(r[5]),
            )
            for r in rows
        ]

    async def update_agency(self, code: str, **values: object) -> bool:
        """Set columns of one agency (name, alert_threshold, min_sample, zns_survey); False if
        unknown."""
        allowed = {"name", "alert_threshold", "min_sample", "zns_survey"}
        if not values or set(values) - allowed:
            raise ValueError(f"cannot set {sorted(set(values) - allowed)}")
        stmt = update(agencies_t).where(agencies_t.c.code == code).values(**values)
        with translate_errors():
            async with self.engine.begin() as conn:
                return bool((await conn.execute(stmt)).rowcount)

    async def set_parent(self, code: str, parent: str | None) -> str:
        """Move an agency under `parent` (None: make it a root).

        Returns "ok", "unknown" (either code names no agency) or "cycle" (the parent is the
        agency itself or one of its descendants). The check and the move share a transaction.
        """
        with translate_errors():
            async with self.engine.begin() as conn:
                codes = [code] if parent is None else [code, parent]
                found = (
                    await conn.execute(
                        select(agencies_t.c.code).where(agencies_t.c.code.in_(codes))
                    )
                ).all()
                if len(found) != len(set(codes)):
                    return "unknown"
                if parent is not None:
                    base = select(literal(code).label("code"))
                    tree = base.cte("below", recursive=True)
                    tree = tree.union(
                        select(agencies_t.c.code).where(agencies_t.c.parent_code == tree.c.code)
                    )
                    below = {str(r[0]) for r in (await conn.execute(select(tree.c.code))).all()}
                    if parent in below:
                        return "cycle"
                await conn.execute(
                    update(agencies_t).where(agencies_t.c.code == code).values(parent_code=parent)
                )
        return "ok"
