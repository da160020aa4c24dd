"""Every contract scenario runs once per platform (and per database kind): the two reference
channels, and the real Zalo OA and Zalo Bot adapters in front of their fake servers
(`tests.channels.catalog`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.catalog import PLATFORMS, platform
from tests.channels.harness import Conversation, conversation
from tests.channels.platforms import Platform


@pytest.fixture(params=sorted(PLATFORMS))
async def channel(request: pytest.FixtureRequest) -> AsyncIterator[Platform]:
    async with platform(request.param) as found:
        yield found


@pytest.fixture
async def talk(migrated_url: str, channel: Platform) -> AsyncIterator[Conversation]:
    async with conversation(migrated_url, channel) as found:
        yield found
