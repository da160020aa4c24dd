"""The platforms the contract scenarios run on, by fixture parameter: the two reference
channels, and the real Zalo OA and Zalo Bot adapters in front of their fake servers. Each
entry opens the platform for one test (starting its fake server, if it has one)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from tests.channels.bot_platform import zalo_bot
from tests.channels.oa_platform import zalo_oa
from tests.channels.platforms import Platform
from tests.channels.reference import RecordingChannel, button_channel, plain_channel

# Opens a platform for one test.
Opener = Callable[[], AbstractAsyncContextManager[Platform]]


def _reference(make: Callable[[], RecordingChannel]) -> Opener:
    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[Platform]:
        yield make()

    return opened


PLATFORMS: dict[str, Opener] = {
    "buttons": _reference(button_channel),
    "plain": _reference(plain_channel),
    "zalo_oa": zalo_oa,
    "zalo_bot": zalo_bot,
}
# The platforms whose chats have no buttons (choices are numbered and typed).
BUTTONLESS = ["plain", "zalo_bot"]


@contextlib.asynccontextmanager
async def platform(name: str) -> AsyncIterator[Platform]:
    """The platform `name` for one test."""
    async with PLATFORMS[name]() as found:
        yield found
