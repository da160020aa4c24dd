"""Steps the contract scenarios share beyond the harness: a typed command, staff by the
environment, answering a survey up to a given question, the phone request some platforms
follow an unlinked user's first text with, and a product bug known on one platform."""

from __future__ import annotations

import pytest

from bot.channels.inbound import Command
from bot.texts import LIKERT, chat_text
from tests.channels.harness import Conversation


async def command(talk: Conversation, user: str, line: str) -> list[str]:
    """`user` sends `/name args…`; the texts the bot answered with."""
    name, *args = line.lstrip("/").split()
    before = len(talk.inbox(user))
    await talk.send(Command(talk.chat(user), name.lower(), tuple(args)))
    return talk.texts(user)[before:]


async def reply(talk: Conversation, user: str, line: str) -> str:
    """The one message the bot answers `line` (a command) with."""
    answered = await command(talk, user, line)
    assert len(answered) == 1, answered
    return answered[0]


async def typed(talk: Conversation, user: str, text: str) -> list[str]:
    """`user` types `text`; the texts the bot answered with."""
    before = len(talk.inbox(user))
    await talk.say(user, text)
    return talk.texts(user)[before:]


def admin(talk: Conversation, user: str) -> None:
    """`user` on this channel is an admin named in the environment (as `SIPAS_ADMINS` would
    name them; the reference channels are not among its channel names)."""
    access = talk.services.commands.access
    access.admins = access.admins | {(talk.channel.name, user)}


async def answer_until(talk: Conversation, user: str, needle: str, *, level: int = 5) -> None:
    """Answer the open survey (every five-level question at `level`, "Không" to yes/no, the
    first option and "Xong" of a multi-choice) until a question containing `needle` is asked."""
    label = LIKERT["vi"][level - 1]
    for _ in range(40):
        shown = talk.latest(user)
        if needle in shown.text:
            return
        assert chat_text("vi", "thanks") not in shown.text, f"{needle!r} was never asked"
        options = talk.options(shown)
        if any(label in option for option in options):
            await talk.choose(user, label)
        elif "Không" in options:
            await talk.choose(user, "Không")
        elif any("Xong" in option for option in options):
            await talk.choose(user, options[0])
            await talk.choose(user, next(o for o in options if "Xong" in o))
        elif options:
            await talk.choose(user, options[0])
        else:
            await talk.say(user, "Cán bộ nhiệt tình")
    raise AssertionError(f"{needle!r} was never asked")


def phone_asked(talk: Conversation) -> list[str]:
    """What follows the answer to the first text of a user without a linked case: on a
    platform that then asks for their phone (the Zalo OA's form, after its text), that text."""
    if not talk.channel.traits.asks_unlinked_for_phone:
        return []
    return [chat_text("vi", "share_phone_ask", buttons=talk.channel.capabilities.buttons)]


def known_bug(
    request: pytest.FixtureRequest, talk: Conversation, bug: str, *platforms: str
) -> None:
    """On `platforms` this scenario fails because of a product bug (`bug` says which):
    expected to fail there, strictly, until it is fixed."""
    if talk.channel.name in platforms:
        request.applymarker(pytest.mark.xfail(strict=True, reason=bug))
