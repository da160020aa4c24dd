"""Every contract scenario runs once per reference channel (and per database kind)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.channels.harness import Conversation, conversation
from tests.channels.reference import RecordingChannel, button_channel, plain_channel

CHANNELS: dict[str, Callable[[], RecordingChannel]] = {
    "buttons": button_channel,
    "plain": plain_channel,
}


@pytest.fixture(params=sorted(CHANNELS))
def channel(request: pytest.FixtureRequest) -> RecordingChannel:
    return CHANNELS[request.param]()


@pytest.fixture
async def talk(migrated_url: str, channel: RecordingChannel) -> AsyncIterator[Conversation]:
    async with conversation(migrated_url, channel) as found:
        yield found
