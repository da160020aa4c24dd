"""Who an alert goes to and who may act on it: heads up the agency tree, and inspectors
(granted by invite, or named in the environment on any channel) for complaints."""

from __future__ import annotations

from collections.abc import Iterable

from storage.alerts import AlertStore
from storage.roles import RoleStore


class Recipients:
    """Heads and inspectors as chat ids."""

    def __init__(
        self,
        *,
        roles: RoleStore,
        agencies: AlertStore,
        inspectors: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.roles = roles
        self.agencies = agencies
        # Inspectors named in the environment: (channel, id on the channel).
        self.inspectors = frozenset(inspectors)

    async def heads(self, agency_code: str) -> list[int]:
        """The chats heading exactly this agency."""
        return await self.roles.role_chats("head", agency_code)

    async def inspector_chats(self) -> list[int]:
        """Inspectors granted by invite, then those the environment names (each once)."""
        found = [*await self.roles.role_chats("inspector"), *await self._env_inspector_chats()]
        return list(dict.fromkeys(found))

    async def _env_inspector_chats(self) -> list[int]:
        """The chats of the inspectors the environment names, on every channel."""
        by_channel: dict[str, list[str]] = {}
        for channel, external_id in sorted(self.inspectors):
            by_channel.setdefault(channel, []).append(external_id)
        found: list[int] = []
        for channel, ids in by_channel.items():
            found += await self.roles.chats_of(channel, ids)
        return found

    async def may_act(self, chat_id: int, agency_code: str, complaint: bool) -> bool:
        """Heads of the agency or of any agency above it (they see it in /alerts), and for a
        complaint the inspectors."""
        code: str | None = agency_code
        seen: set[str] = set()
        while code is not None and code not in seen:
            if chat_id in await self.heads(code):
                return True
            seen.add(code)
            code = await self.agencies.parent_of(code)
        if not complaint:
            return False
        return chat_id in await self.inspector_chats()
