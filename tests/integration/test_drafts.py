"""The questionnaire draft on real SQLite and PostgreSQL: created on the first edit, published
as the next version (surveys keep theirs), discarded; and the admin commands over it, checked as
the admin reads them, with the audit log written and nothing recorded by a preview."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.commands.base import Caller, Reply, UsageError
from bot.commands.questionnaire_admin import QuestionnaireAdmin
from bot.scoring_setup import question_meta
from bot.survey.service import SurveyService
from storage.chats import ChatStore
from storage.db import create_engine
from storage.drafts import DraftStore
from storage.models import Answer, QuestionnaireVersion, Survey
from storage.outbox import OutboxStore
from storage.questionnaires import QuestionnaireStore
from storage.surveys import SurveyStore

T0 = datetime(2026, 11, 2, 8, 0)
ADMIN = Caller(
    chat_id=1, channel="telegram", external_id="1", language="vi", label="Admin", admin=True
)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


def survey_service(engine: AsyncEngine) -> SurveyService:
    return SurveyService(
        chats=ChatStore(engine),
        questionnaires=QuestionnaireStore(engine),
        surveys=SurveyStore(engine),
        outbox=OutboxStore(engine),
        clock=Clock(ZoneInfo("Asia/Ho_Chi_Minh")),
        survey_statuses=(10,),
        reminder_after=timedelta(days=1),
        expiry=timedelta(days=7),
        quiet_window=None,
    )


@pytest.fixture
async def surveys(engine: AsyncEngine) -> SurveyService:
    service = survey_service(engine)
    await service.ensure_form()
    return service


class Audit:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def record(self, **row: Any) -> None:
        self.rows.append(row)


class Dialogs:
    def __init__(self) -> None:
        self.open: dict[int, tuple[str, dict[str, Any]]] = {}

    async def begin(self, caller: Caller, kind: str, state: dict[str, Any]) -> None:
        self.open[caller.chat_id] = (kind, state)


@pytest.fixture
def audit() -> Audit:
    return Audit()


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def admin(
    engine: AsyncEngine, surveys: SurveyService, audit: Audit, dialogs: Dialogs
) -> QuestionnaireAdmin:
    return QuestionnaireAdmin(
        engine=engine, surveys=surveys, audit=audit, dialogs=dialogs, clock=surveys.clock
    )


def text_of(result: Reply | Sequence[Reply]) -> str:
    replies = [result] if isinstance(result, Reply) else list(result)
    return "\n".join(r.text for r in replies)


async def statuses(engine: AsyncEngine) -> list[tuple[int | None, str]]:
    table = QuestionnaireVersion.__table__  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = await conn.execute(select(table.c.version, table.c.status).order_by(table.c.id))
        return [(r.version, r.status) for r in rows]


def retext(code: str, new: str) -> Any:
    def apply(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        questions = [
            {**q, "text_vi": new} if q["code"] == code else q for q in definition["questions"]
        ]
        return base, {**definition, "questions": questions}

    return apply


# -- storage --------------------------------------------------------------------------------


async def test_first_change_copies_the_active_version_into_a_draft(
    engine: AsyncEngine, surveys: SurveyService
) -> None:
    store = DraftStore(engine)
    assert await store.draft() is None
    before, after = await store.change(retext("F1", "Câu mới"), now=T0)
    assert before.status == "active" and before.version == 1
    assert after.status == "draft" and after.version is None
    assert after.definition["questions"][0]["text_vi"] == "Câu mới"
    # a second change edits the same draft
    before2, after2 = await store.change(retext("F2", "Câu hai"), now=T0)
    assert before2.status == "draft" and before2.definition == after.definition
    assert [q["text_vi"] for q in after2.definition["questions"][:3:2]] == ["Câu mới", "Câu hai"]
    assert await statuses(engine) == [(1, "active"), (None, "draft")]
    # the active version is untouched until publish
    active = await store.active()
    assert active is not None and active.definition["questions"][0]["text_vi"] != "Câu mới"


async def test_publish_makes_the_next_version_active_and_retires_the_old(
    engine: AsyncEngine, surveys: SurveyService
) -> None:
    store = DraftStore(engine)
    assert await store.publish(now=T0) is None  # nothing to publish
    await store.change(retext("F1", "Phiên bản hai"), now=T0)
    published = await store.publish(now=T0)
    assert published is not None and (published.retired, published.version) == (1, 2)
    assert await statuses(engine) == [(1, "retired"), (2, "active")]
    assert await store.draft() is None
    await store.change(retext("F1", "Phiên bản ba"), now=T0)
    third = await store.publish(now=T0)
    assert third is not None and (third.retired, third.version) == (2, 3)
    found = await surveys.questionnaires.active_form()
    assert found is not None and found[0] == 3
    assert found[1]["questions"][0]["text_vi"] == "Phiên bản ba"
    # the retired versions are still readable for surveys in flight
    old = await surveys.questionnaires.form(1)
    assert old is not None and old["questions"][0]["text_vi"] != "Phiên bản ba"


async def test_discard_drops_only_the_draft(engine: AsyncEngine, surveys: SurveyService) -> None:
    store = DraftStore(engine)
    assert await store.discard() is None
    await store.change(retext("F1", "Bỏ đi"), now=T0)
    dropped = await store.discard()
    assert dropped is not None and dropped.definition["questions"][0]["text_vi"] == "Bỏ đi"
    assert await statuses(engine) == [(1, "active")]


async def test_a_refused_change_leaves_the_draft_as_it_was(
    engine: AsyncEngine, surveys: SurveyService
) -> None:
    store = DraftStore(engine)
    await store.change(retext("F1", "Giữ nguyên"), now=T0)

    def broken(base: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise ValueError("refused")

    with pytest.raises(ValueError):
        await store.change(broken, now=T0)
    draft = await store.draft()
    assert draft is not None and draft.definition["questions"][0]["text_vi"] == "Giữ nguyên"


async def test_concurrent_edits_on_two_engines_are_all_kept(migrated_url: str) -> None:
    """Two replicas edit at once: one draft, and no edit is lost."""
    engines = [create_engine(migrated_url) for _ in range(2)]
    try:
        service = survey_service(engines[0])
        await service.ensure_form()
        stores = [DraftStore(e) for e in engines]
        codes = ["F1", "F2", "F3", "F4", "F5", "OVERALL"]
        await asyncio.gather(
            *(
                stores[i % 2].change(retext(code, f"Sửa {code}"), now=T0)
                for i, code in enumerate(codes)
            )
        )
        assert await statuses(engines[0]) == [(1, "active"), (None, "draft")]
        draft = await stores[0].draft()
        assert draft is not None
        texts = {q["code"]: q["text_vi"] for q in draft.definition["questions"]}
        assert all(texts[code] == f"Sửa {code}" for code in codes)
    finally:
        for e in engines:
            await e.dispose()


async def test_scoring_ignores_an_unpublished_draft(
    engine: AsyncEngine, admin: QuestionnaireAdmin
) -> None:
    await admin.use_base(ADMIN, ["daydu"])
    await admin.set_field(ADMIN, ["1.1", "nhom", "2"])
    assert (await question_meta(engine))["1.1"] == (1, "criterion")
    await admin.publish(ADMIN, [])
    assert (await question_meta(engine))["1.1"] == (2, "criterion")


# -- the commands over real storage ---------------------------------------------------------


async def test_q_edit_creates_the_draft_and_audits_before_and_after(
    admin: QuestionnaireAdmin, audit: Audit
) -> None:
    old = (await admin.store.active()).definition["questions"][0]["text_vi"]  # type: ignore[union-attr]
    reply = text_of(await admin.edit_text(ADMIN, ["F1", "Ông/Bà", "thấy", "thế", "nào?"]))
    assert "Đã sửa câu F1" in reply and "Ông/Bà thấy thế nào?" in reply
    draft = await admin.store.draft()
    assert draft is not None and draft.definition["questions"][0]["text_vi"] == (
        "Ông/Bà thấy thế nào?"
    )
    assert audit.rows[-1]["action"] == "questionnaire.edit"
    assert audit.rows[-1]["before"] == {"text_vi": old}
    assert audit.rows[-1]["after"] == {"text_vi": "Ông/Bà thấy thế nào?"}
    listing = text_of(await admin.show(ADMIN, []))
    assert "Bản nháp" in listing and "✏️ Sửa: F1" in listing


async def test_bad_edits_are_refused_in_vietnamese_and_change_nothing(
    admin: QuestionnaireAdmin, audit: Audit
) -> None:
    with pytest.raises(UsageError) as caught:
        await admin.edit_text(ADMIN, ["NOPE", "Nội", "dung"])
    assert "không có câu hỏi mã “NOPE”" in caught.value.text
    with pytest.raises(UsageError) as caught:
        await admin.set_field(ADMIN, ["F1", "màu", "đỏ"])
    assert "Không có thuộc tính “màu”" in caught.value.text
    assert "batbuoc — bắt buộc" in caught.value.text
    with pytest.raises(UsageError) as caught:
        await admin.set_field(ADMIN, ["MONEY", "loai", "likert5"])
    assert "chủ đề" in caught.value.text or "yếu tố" in caught.value.text
    with pytest.raises(UsageError) as caught:
        await admin.remove_question(ADMIN, ["F1"])  # F1.WHY would be left without F1
    assert "Hãy xóa câu lý do trước" in caught.value.text
    assert await admin.store.draft() is None
    assert audit.rows == []


async def test_a_command_with_part_of_its_arguments_continues_step_by_step(
    admin: QuestionnaireAdmin, dialogs: Dialogs
) -> None:
    reply = text_of(await admin.edit_text(ADMIN, ["F2"]))
    assert "Câu F2 hiện là" in reply and "Gửi nội dung tiếng Việt mới" in reply
    assert dialogs.open[1] == ("q_edit", {"step": "text", "code": "F2"})
    reply = text_of(await admin.set_field(ADMIN, ["EXPECT", "tối", "đa"]))
    assert reply.startswith("Câu EXPECT, toida") and "Giá trị hiện tại: 2" in reply
    reply = text_of(await admin.set_field(ADMIN, ["EXPECT", "tối", "đa", "3"]))
    assert "Đã sửa câu EXPECT" in reply and "số phương án chọn tối đa: 2 → 3" in reply
    with pytest.raises(UsageError) as caught:
        await admin.set_field(ADMIN, ["ONTIME", "loại", "yes_no"])
    assert "không có gì thay đổi" in caught.value.text
    reply = text_of(await admin.set_field(ADMIN, ["F9"]))
    assert "không có câu hỏi mã “F9”" in reply and "/cancel" in reply
    assert dialogs.open[1] == ("q_set", {"step": "code"})


async def test_guided_add_asks_again_on_bad_input_then_adds(
    admin: QuestionnaireAdmin, dialogs: Dialogs, audit: Audit
) -> None:
    first = text_of(await admin.add_question(ADMIN, []))
    assert "Gửi mã câu hỏi" in first
    step = admin.dialogs()[2].step  # q_add
    kind, state = dialogs.open[1]
    assert kind == "q_add"
    answers = [
        ("F1", "đã có trong bộ câu hỏi", False),
        ("WAIT", "Loại câu hỏi", True),
        ("7", "Loại “7” không có", False),
        ("2", "Chủ đề", True),
        ("3", "Gửi nội dung câu hỏi bằng tiếng Việt", True),
        ("Ông/Bà có phải chờ quá 30 phút không?", "tiếng Anh", True),
        ("Did you wait more than 30 minutes?", "bắt buộc", True),
        ("có lẽ", "“co”", False),
        ("không", "Đã thêm câu WAIT", True),
    ]
    for sent, expected, moves_on in answers:
        replies, new_state = await step(ADMIN, state, sent)
        assert expected in text_of(replies), (sent, text_of(replies))
        if not moves_on:
            assert new_state == state
        state = new_state or {}
    draft = await admin.store.draft()
    assert draft is not None
    added = draft.definition["questions"][-1]
    assert (added["code"], added["kind"], added["topic"], added["required"]) == (
        "WAIT",
        "yes_no",
        "on_time",
        False,
    )
    assert audit.rows[-1]["action"] == "questionnaire.add"


async def test_guided_kind_change_asks_for_options_then_topic(
    admin: QuestionnaireAdmin, dialogs: Dialogs
) -> None:
    await admin.set_field(ADMIN, [])
    step = admin.dialogs()[1].step  # q_set
    state = dialogs.open[1][1]
    replies, state = await step(ADMIN, state, "ontime")  # as typed on a phone
    assert "Sửa thuộc tính nào" in text_of(replies)
    replies, state = await step(ADMIN, state, "loại")
    assert "Giá trị hiện tại: yes_no" in text_of(replies)
    replies, state = await step(ADMIN, state, "choice")
    assert "MÃ = Tiếng Việt | English" in text_of(replies)
    replies, state = await step(ADMIN, state, "A = Đúng hẹn | On time\nB = Trễ | Late")
    assert "Chủ đề" in text_of(replies) and "visits" in text_of(replies)
    replies, state = await step(ADMIN, state, "2")
    assert state is None and "Đã sửa câu ONTIME" in text_of(replies)
    draft = await admin.store.draft()
    assert draft is not None
    ontime = next(q for q in draft.definition["questions"] if q["code"] == "ONTIME")
    assert (ontime["kind"], ontime["topic"], [o["code"] for o in ontime["options"]]) == (
        "choice",
        "expectations",
        ["A", "B"],
    )


async def test_publish_reaches_new_invitations_at_once(
    admin: QuestionnaireAdmin, surveys: SurveyService, audit: Audit
) -> None:
    assert (await surveys.forms.active()).version == 1  # now cached for a few seconds
    await admin.edit_text(ADMIN, ["F1", "Câu", "hỏi", "mới"])
    assert "Đã ban hành phiên bản số 2" in text_of(await admin.publish(ADMIN, []))
    active = await surveys.forms.active()
    assert active.version == 2 and active.questions[0].text_vi == "Câu hỏi mới"
    assert audit.rows[-1]["before"] == {"version": 1}
    assert audit.rows[-1]["after"]["version"] == 2
    assert "Chưa có bản nháp" in text_of(await admin.publish(ADMIN, []))


async def test_discard_and_base_switch(admin: QuestionnaireAdmin, audit: Audit) -> None:
    assert "Không có bản nháp" in text_of(await admin.discard(ADMIN, []))
    with pytest.raises(UsageError) as caught:
        await admin.use_base(ADMIN, ["dài"])
    assert "Không có mẫu “dài”" in caught.value.text
    reply = text_of(await admin.use_base(ADMIN, ["đầy", "đủ"]))
    assert "mẫu SIPAS đầy đủ" in reply and "31 câu hỏi" in reply
    assert audit.rows[-1]["before"]["base"] == "short"
    assert audit.rows[-1]["after"]["base"] == "full"
    assert "Đã hủy bản nháp" in text_of(await admin.discard(ADMIN, []))
    assert await admin.store.draft() is None


async def test_preview_walks_the_draft_and_records_nothing(
    engine: AsyncEngine, admin: QuestionnaireAdmin, dialogs: Dialogs
) -> None:
    await admin.edit_text(ADMIN, ["F1", "Xem", "thử", "câu", "một"])
    first = await admin.preview(ADMIN, [])
    assert "XEM THỬ" in first.text and "Câu 1/11: Xem thử câu một" in first.text
    labels = [row[0].label for row in first.buttons]
    assert labels == [
        "1. Rất không hài lòng",
        "2. Không hài lòng",
        "3. Bình thường",
        "4. Hài lòng",
        "5. Rất hài lòng",
    ]
    press = admin.callbacks()[0].run
    low = await press(ADMIN, first.buttons[1][0].data)  # "Không hài lòng" → the branch follows
    assert low.edit is not None and "✔ Không hài lòng" in low.edit.text
    why = low.replies[0]
    assert "Câu 2/12" in why.text and "chưa hài lòng về việc tiếp cận dịch vụ" in why.text
    assert why.buttons[-1][0].label == "Bỏ qua"
    skipped = await press(ADMIN, why.buttons[-1][0].data)
    assert skipped.replies[0].text.startswith("Câu 3/12")
    # a typed answer works as for a citizen
    kind, state = dialogs.open[1]
    step = next(d.step for d in admin.dialogs() if d.kind == kind)
    replies, state2 = await step(ADMIN, state, "5")
    assert "Câu 4/12" in text_of(replies) and state2 is not None
    replies, _ = await step(ADMIN, state2, "tuyệt vời")
    assert "Vui lòng trả lời bằng các nút" in text_of(replies)
    async with engine.connect() as conn:
        for table in (Survey, Answer):
            count = await conn.execute(select(func.count()).select_from(table))
            assert count.scalar_one() == 0
    # an edit after the preview started makes its buttons stale, politely
    await admin.edit_text(ADMIN, ["F2", "Đổi"])
    stale = await press(ADMIN, skipped.replies[0].buttons[0][0].data)
    assert stale.notice is not None and "/preview" in stale.notice
