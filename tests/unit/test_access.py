"""The role check, a caller's roles and scope, the command rate limit, long replies."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.pieces import split_text
from bot.commands.access import CommandRateLimit, allowed
from bot.commands.base import Caller


def caller(**roles: Any) -> Caller:
    return Caller(
        chat_id=1, channel="telegram", external_id="1", language="vi", label="tg:1", **roles
    )


CITIZEN = caller()
HEAD = caller(head_of=frozenset({"A"}), scope=frozenset({"A", "A1", "A11"}))
INSPECTOR = caller(inspector=True)
ADMIN = caller(admin=True)


@pytest.mark.parametrize(
    ("who", "role", "expected"),
    [
        (CITIZEN, "everyone", True),
        (CITIZEN, "head", False),
        (CITIZEN, "admin", False),
        (CITIZEN, "inspector", False),
        (HEAD, "head", True),
        (HEAD, "admin", False),
        (INSPECTOR, "inspector", True),
        (INSPECTOR, "head", False),
        (INSPECTOR, "admin", False),
        (ADMIN, "admin", True),
        (ADMIN, "head", True),  # admins see every agency
        (ADMIN, "inspector", False),
    ],
)
def test_one_role_check(who: Caller, role: Any, expected: bool) -> None:
    assert allowed(who, role) is expected


def test_a_head_sees_the_subtree_and_nothing_else() -> None:
    assert HEAD.sees("A11") and HEAD.sees("A")
    assert not HEAD.sees("B")
    assert ADMIN.sees("anything")
    assert not CITIZEN.sees("A")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_gets_one_warning_then_a_minute_of_silence() -> None:
    ticks = Ticks()
    limit = CommandRateLimit(limit=3, window=60, silence=60, now=ticks)
    assert [limit.check(7) for _ in range(3)] == ["ok", "ok", "ok"]
    assert limit.check(7) == "warn"
    assert [limit.check(7) for _ in range(5)] == ["silent"] * 5
    assert limit.check(8) == "ok"  # other chats are not affected
    ticks.now = 59.0
    assert limit.check(7) == "silent"
    ticks.now = 60.5
    assert limit.check(7) == "ok"


def test_commands_spread_over_time_are_never_limited() -> None:
    ticks = Ticks()
    limit = CommandRateLimit(limit=3, window=60, silence=60, now=ticks)
    for step in range(20):
        ticks.now = step * 21.0
        assert limit.check(1) == "ok"


def test_long_replies_are_cut_at_line_breaks_within_telegram_limits() -> None:
    text = "\n".join(f"dòng {i:04d} " + "x" * 40 for i in range(300))
    pieces = split_text(text, 4096)
    assert len(pieces) > 1
    assert all(0 < len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("y" * 5000, 4096) == ["y" * 4096, "y" * 904]


def test_a_refunded_update_does_not_count_and_keys_are_any_chat_address() -> None:
    ticks = Ticks()
    limit = CommandRateLimit(limit=3, window=60, silence=60, now=ticks)
    chat = ("telegram", "42")
    for _ in range(10):  # recorded answers give their unit back
        assert limit.check(chat) == "ok"
        limit.refund(chat)
    assert [limit.check(chat) for _ in range(3)] == ["ok", "ok", "ok"]
    assert limit.check(chat) == "warn"
    limit.refund(chat)  # nothing to give back while silenced
    assert limit.check(chat) == "silent"
    assert limit.check(("zalo_oa", "42")) == "ok"  # the same id on another channel is another chat
    limit.refund(("telegram", "never seen"))
