"""The Zalo OA channel sending through the fake OA over real HTTP, on real databases: messages
and buttons, reply windows, billable replies, Zalo's errors, and the rotating token pair."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import (
    COST_FREE,
    COST_OA_BILLABLE,
    Choice,
    Failed,
    Limits,
    MessageView,
    RetryLater,
    Sent,
)
from bot.onestop.links import KeyRing
from bot.sealing import Sealer
from bot.zalo_oa import CHANNEL, TAP_PREFIX
from bot.zalo_oa.channel import TOKEN_DEAD, ZaloOAChannel
from bot.zalo_oa.client import OAClient
from bot.zalo_oa.render import CSRenderer
from bot.zalo_oa.tokens import TOKEN_PURPOSE, OATokens, TokenPair, token_row_name
from storage.channel_models import ChannelToken
from storage.channel_state import ActivityStore, BillableStore, TokenStore
from storage.db import create_engine
from tests.fakes import tiny_png
from tests.fakes.zalo_oa_api import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    DEFAULT_OA_ID,
    DEFAULT_REFRESH_TOKEN,
    FakeZaloOA,
)

USER = "2512523625412515"
RING = KeyRing.single(b"zalo-oa-test-key")
IMAGE_URL = "https://sipas.example.vn/zalo/share-phone.png"
LEVELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


@dataclass
class Rig:
    """The fake OA, a database, and the product's clock kept in step with the fake's."""

    fake: FakeZaloOA
    engine: AsyncEngine
    now: datetime
    dead: list[str] = field(default_factory=list)
    channels: list[ZaloOAChannel] = field(default_factory=list)
    token_stores: list[TokenStore] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.fake.advance(**delta)
        self.now += timedelta(**delta)

    def channel(self, initial: TokenPair | None = None) -> ZaloOAChannel:
        """A channel of its own process: own client, own in-memory tokens, same database
        (`initial`: the pair its settings hold)."""
        client = OAClient(
            api_base_url=self.fake.url,
            oauth_base_url=self.fake.url,
            app_id=DEFAULT_APP_ID,
            app_secret=DEFAULT_APP_SECRET,
        )

        async def on_dead(reason: str) -> None:
            self.dead.append(reason)

        store = TokenStore(self.engine)
        self.token_stores.append(store)
        tokens = OATokens(
            client,
            store,
            Sealer(RING, TOKEN_PURPOSE),
            oa_id=DEFAULT_OA_ID,
            initial=initial or TokenPair(DEFAULT_ACCESS_TOKEN, DEFAULT_REFRESH_TOKEN),
            now=self.clock,
            on_dead=on_dead,
        )
        channel = ZaloOAChannel(
            client,
            tokens,
            renderer=CSRenderer(phone_image_url=IMAGE_URL),
            activity=ActivityStore(self.engine),
            billable=BillableStore(self.engine),
            limits=Limits(per_second=50, per_chat_burst=3),
            now=self.clock,
            local_now=lambda: self.now + timedelta(hours=7),
        )
        self.channels.append(channel)
        return channel

    async def user(self, user_id: str = USER, *, ago: timedelta = timedelta(0)) -> None:
        """A follower who last interacted `ago` (on both clocks)."""
        self.fake.add_user(user_id, interacted=False).last_interaction = self.fake.now_ms() - int(
            ago.total_seconds() * 1000
        )
        await ActivityStore(self.engine).touch(CHANNEL, user_id, at=self.now - ago)


@pytest.fixture
async def rig(migrated_url: str) -> AsyncIterator[Rig]:
    engine = create_engine(migrated_url)
    async with FakeZaloOA() as fake:
        now = datetime.fromtimestamp(fake.now_ms() / 1000, UTC).replace(tzinfo=None)
        rig = Rig(fake, engine, now)
        try:
            yield rig
        finally:
            for channel in rig.channels:
                await channel.close()
            await engine.dispose()


async def test_a_text_is_delivered_with_zalos_message_id(rig: Rig) -> None:
    await rig.user()
    outcome = await rig.channel().send(USER, MessageView("Hồ sơ của anh/chị đã có kết quả."))
    [record] = rig.fake.messages_to(USER)
    assert (record.kind, record.text) == ("text", "Hồ sơ của anh/chị đã có kết quả.")
    assert outcome == Sent(record.message_id)


async def test_a_question_goes_with_five_hidden_buttons_whose_payloads_are_prefixed(
    rig: Rig,
) -> None:
    await rig.user()
    choices = [Choice(label, f"sv:1:{i}") for i, label in enumerate(LEVELS, 1)]
    outcome = await rig.channel().send(USER, MessageView("Mức độ hài lòng?", choices=[choices]))
    assert isinstance(outcome, Sent)
    [record] = rig.fake.messages_to(USER)
    assert record.kind == "buttons"
    assert [tuple(b) for b in record.buttons] == [
        (label, "oa.query.hide", f"{TAP_PREFIX}sv:1:{i}") for i, label in enumerate(LEVELS, 1)
    ]


async def test_six_choices_are_refused_without_calling_zalo(rig: Rig) -> None:
    await rig.user()
    view = MessageView("?", choices=[[Choice(str(i), str(i)) for i in range(6)]])
    outcome = await rig.channel().send(USER, view)
    assert isinstance(outcome, Failed) and not outcome.fallback
    assert rig.fake.calls == []


async def test_a_phone_request_is_the_text_then_the_request_user_info_form(rig: Rig) -> None:
    await rig.user()
    view = MessageView(
        "Xin chia sẻ số điện thoại để nhận thông báo.",
        ask_phone="Chia sẻ số điện thoại",
        ask_phone_note="Chỉ dùng để tìm hồ sơ của anh/chị.",
    )
    assert isinstance(await rig.channel().send(USER, view), Sent)
    text, form = rig.fake.messages_to(USER)
    assert (text.kind, form.kind) == ("text", "request_user_info")
    assert form.element == {
        "title": "Chia sẻ số điện thoại",
        "subtitle": "Chỉ dùng để tìm hồ sơ của anh/chị.",
        "image_url": IMAGE_URL,
    }
    assert rig.fake.users[USER].info_requested


async def test_a_picture_is_uploaded_then_sent_with_its_caption(rig: Rig) -> None:
    await rig.user()
    png = tiny_png()
    outcome = await rig.channel().send(USER, MessageView("Biểu đồ tháng 9", picture=png))
    [record] = rig.fake.messages_to(USER)
    assert (record.kind, record.text) == ("image", "Biểu đồ tháng 9")
    assert record.attachment_id is not None and rig.fake.uploads[record.attachment_id] == png
    assert outcome == Sent(record.message_id)


@pytest.mark.parametrize("state", ["old", "unfollowed", "unknown"])
async def test_a_closed_window_falls_back_without_calling_zalo(rig: Rig, state: str) -> None:
    activity = ActivityStore(rig.engine)
    if state == "old":
        await rig.user(ago=timedelta(days=7, minutes=1))
    elif state == "unfollowed":
        await rig.user()
        await activity.touch(CHANNEL, USER, at=rig.now, followed=False)
    outcome = await rig.channel().send(USER, MessageView("Mời anh/chị đánh giá."))
    assert isinstance(outcome, Failed) and outcome.fallback
    assert rig.fake.calls == []


@pytest.mark.parametrize("followed", [True, False])
async def test_zalos_own_window_or_follow_refusal_falls_back(rig: Rig, followed: bool) -> None:
    await ActivityStore(rig.engine).touch(CHANNEL, USER, at=rig.now)
    # Zalo knows better: no interaction it counts (-230), or no longer following (-213).
    rig.fake.add_user(USER, followed=followed, interacted=False)
    outcome = await rig.channel().send(USER, MessageView("Mời anh/chị đánh giá."))
    assert isinstance(outcome, Failed) and outcome.fallback
    assert str(-230 if followed else -213) in outcome.error
    assert rig.fake.messages_to(USER) == []


async def test_replies_between_48_hours_and_7_days_are_counted_billable(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    free = await channel.send(USER, MessageView("Trong 48 giờ: miễn phí."))
    assert isinstance(free, Sent) and free.cost == COST_FREE
    rig.advance(hours=50)
    view = MessageView("Nhắc lại", ask_phone="Chia sẻ số điện thoại")  # two CS messages
    paid = await channel.send(USER, view)
    assert isinstance(paid, Sent) and paid.cost == COST_OA_BILLABLE
    assert rig.fake.billable_count == 2
    assert channel.billable_sent == 2
    month = (rig.now + timedelta(hours=7)).strftime("%Y-%m")
    assert await BillableStore(rig.engine).counts(CHANNEL) == [("", month, 2)]


async def test_zalos_rate_limit_means_retry_later(rig: Rig) -> None:
    await rig.user()
    rig.fake.fail_next("message", error=-32)
    outcome = await rig.channel().send(USER, MessageView("x"))
    assert isinstance(outcome, RetryLater) and outcome.after is not None
    assert 10 <= outcome.after <= 60


async def test_a_server_error_means_retry_later(rig: Rig) -> None:
    await rig.user()
    rig.fake.fail_next("message", status=503)
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("x")), RetryLater)
    assert isinstance(await channel.send(USER, MessageView("x")), Sent)


async def stored_row(engine: AsyncEngine) -> dict[str, object]:
    table = ChannelToken.__table__  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        row = (await conn.execute(select(table))).mappings().one()
    return dict(row)


async def test_an_expired_token_is_refreshed_and_the_new_pair_stored_sealed(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("một")), Sent)
    rig.fake.expire_access_token()
    assert isinstance(await channel.send(USER, MessageView("hai")), Sent)
    assert rig.fake.refresh_count == 1
    assert [c.access_token for c in rig.fake.calls if c.kind == "message"][-2:] == [
        DEFAULT_ACCESS_TOKEN,
        rig.fake.access_token,
    ]
    row = await stored_row(rig.engine)
    assert row["name"] == token_row_name(DEFAULT_OA_ID) and row["version"] == 2
    assert row["dead_at"] is None
    text = json.dumps(row, default=str)
    for secret in (rig.fake.access_token, rig.fake.refresh_token, DEFAULT_REFRESH_TOKEN):
        assert secret not in text
    opened = json.loads(Sealer(RING, TOKEN_PURPOSE).open(str(row["sealed"])))
    assert opened == {
        "access_token": rig.fake.access_token,
        "refresh_token": rig.fake.refresh_token,
    }
    assert row["access_expires_at"] == rig.now + timedelta(seconds=rig.fake.expires_in)


async def test_another_process_never_reuses_a_spent_refresh_token(rig: Rig) -> None:
    await rig.user()
    first, stale = rig.channel(), rig.channel()
    assert isinstance(await stale.send(USER, MessageView("đã đọc cặp token cũ")), Sent)
    rig.fake.expire_access_token()
    assert isinstance(await first.send(USER, MessageView("làm mới")), Sent)
    # A process started after the refresh reads the stored pair, not the settings' one.
    assert isinstance(await rig.channel().send(USER, MessageView("khởi động lại")), Sent)
    # One still holding the old pair gets -216, sees the stored version moved, takes it.
    assert isinstance(await stale.send(USER, MessageView("cũ")), Sent)
    assert rig.fake.refresh_count == 1
    refreshes = [c for c in rig.fake.calls if c.kind == "refresh"]
    assert [c.form["refresh_token"] for c in refreshes] == [DEFAULT_REFRESH_TOKEN]
    assert rig.dead == []


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `condition()` holds (state this process changes: checked each loop turn)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_two_processes_refreshing_at_once_spend_one_refresh_token_and_no_lock(
    rig: Rig,
) -> None:
    await rig.user()
    first, second = rig.channel(), rig.channel()
    for channel in (first, second):
        assert isinstance(await channel.send(USER, MessageView("cặp token ban đầu")), Sent)
    rig.fake.expire_access_token()
    release = rig.fake.hold_refreshes()
    sending = asyncio.create_task(first.send(USER, MessageView("làm mới")))
    await asyncio.wait_for(rig.fake.refresh_waiting.wait(), 10)
    # While Zalo has not answered the refresh, the database takes writes (no lock is held).
    store = BillableStore(rig.engine)
    await asyncio.wait_for(store.add(CHANNEL, "someone", month="2027-01"), 5)
    # The other process, refused too, waits for that refresh instead of making its own.
    waiting = asyncio.create_task(second.send(USER, MessageView("cũng bị từ chối")))
    await until(lambda: rig.token_stores[1].lease_waits > 0)
    assert not waiting.done()
    release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(sending, waiting), 10)
    assert all(isinstance(outcome, Sent) for outcome in outcomes)
    assert rig.fake.refresh_count == 1
    refreshes = [c for c in rig.fake.calls if c.kind == "refresh"]
    assert [c.form["refresh_token"] for c in refreshes] == [DEFAULT_REFRESH_TOKEN]
    row = await stored_row(rig.engine)
    assert row["version"] == 2 and row["refreshing_until"] is None
    assert rig.dead == []


async def test_a_lease_left_by_a_dead_process_runs_out(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("0")), Sent)
    # A process took the lease and died before Zalo answered.
    async with rig.engine.begin() as conn:
        await conn.execute(
            text("UPDATE channel_tokens SET refreshing_until = :t"),
            {"t": rig.now + timedelta(seconds=30)},
        )
    rig.fake.expire_access_token()
    other = rig.channel()
    pending = asyncio.create_task(other.send(USER, MessageView("sau khi lease hết hạn")))
    await until(lambda: rig.token_stores[-1].lease_waits > 0)  # the lease holds it back
    assert not pending.done() and rig.fake.refresh_count == 0
    rig.now += timedelta(seconds=31)
    assert isinstance(await asyncio.wait_for(pending, 10), Sent)
    assert rig.fake.refresh_count == 1


async def test_concurrent_sends_share_one_refresh(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("0")), Sent)
    rig.fake.expire_access_token()
    outcomes = await asyncio.gather(*(channel.send(USER, MessageView(str(i))) for i in range(5)))
    assert all(isinstance(o, Sent) for o in outcomes)
    assert rig.fake.refresh_count == 1


async def test_the_token_is_refreshed_before_it_expires(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("0")), Sent)
    rig.now += timedelta(hours=24, minutes=30)  # less than an hour left of 25 h
    assert isinstance(await channel.send(USER, MessageView("1")), Sent)
    assert rig.fake.refresh_count == 1
    assert [c.kind for c in rig.fake.calls] == ["message", "refresh", "message"]


async def test_a_passing_refresh_failure_means_retry_later(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    rig.fake.expire_access_token()
    rig.fake.fail_next("refresh", status=503)
    assert isinstance(await channel.send(USER, MessageView("x")), RetryLater)
    assert isinstance(await channel.send(USER, MessageView("x")), Sent)
    assert rig.dead == []


async def test_a_refused_refresh_kills_the_pair_and_tells_the_composition_root(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    rig.fake.expire_access_token()
    rig.fake.fail_refresh_for_good()
    assert await channel.send(USER, MessageView("x")) == TOKEN_DEAD
    assert len(rig.dead) == 1 and "-14014" in rig.dead[0]
    assert (await stored_row(rig.engine))["dead_at"] is not None
    calls = len(rig.fake.calls)
    assert await channel.send(USER, MessageView("y")) == TOKEN_DEAD
    assert len(rig.fake.calls) == calls
    # Another process finds the stored pair dead too.
    assert await rig.channel().send(USER, MessageView("z")) == TOKEN_DEAD
    assert len(rig.fake.calls) == calls


async def test_a_failed_early_refresh_keeps_the_still_valid_token(rig: Rig) -> None:
    await rig.user()
    channel = rig.channel()
    assert isinstance(await channel.send(USER, MessageView("0")), Sent)
    rig.now += timedelta(hours=24, minutes=30)
    rig.fake.fail_next("refresh", status=503)
    assert isinstance(await channel.send(USER, MessageView("1")), Sent)
    assert isinstance(await channel.send(USER, MessageView("2")), Sent)  # no second try yet
    assert [c.kind for c in rig.fake.calls] == ["message", "refresh", "message", "message"]
    rig.now += timedelta(minutes=2)
    assert isinstance(await channel.send(USER, MessageView("3")), Sent)
    assert rig.fake.refresh_count == 1


async def test_a_newly_configured_pair_replaces_a_dead_one_at_restart(rig: Rig) -> None:
    await rig.user()
    rig.fake.expire_access_token()
    rig.fake.fail_refresh_for_good()
    assert await rig.channel().send(USER, MessageView("x")) == TOKEN_DEAD
    # Restarted with the same (dead) settings: still off.
    assert await rig.channel().send(USER, MessageView("y")) == TOKEN_DEAD
    # The operator issues a new pair and restarts with it: the OA works again.
    access, refresh = rig.fake.issue_new_pair()
    assert isinstance(
        await rig.channel(TokenPair(access, refresh)).send(USER, MessageView("z")), Sent
    )
    row = await stored_row(rig.engine)
    assert row["dead_at"] is None and access not in str(row["sealed"])
