"""Status notices and apologies (bot/survey/notices.py, domain.md §2 and §4).

A citizen following a case hears once per case and status when it is accepted (2), needs
documents (5), owes fees (6), is ready (9) or returned (10) — except the survey status, which
brings the survey invitation instead. A supplement that moves the promised date brings one
apology carrying the fields of the apology slip.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.survey.notices import notice_intents
from storage.event_feed import EventForChat

CODE = "000.00.12.H56-260301-0001"
NOT_BEFORE = datetime(2026, 3, 2, 0, 0)
RECEIVED = datetime(2026, 3, 1, 9, 30)
PROMISED = datetime(2026, 3, 10, 17, 0)
MOVED = datetime(2026, 3, 20, 8, 0)
SUPPLEMENT = {
    "NgayHenTraTruoc": "20260310170000",
    "NgayHenTraMoi": "20260320080000",
    "LyDo": "Chờ ý kiến của cơ quan phối hợp",
}


def event(status: int = 2, *, case_status: int | None = None, **changes: Any) -> EventForChat:
    values: dict[str, Any] = {
        "event_id": 1,
        "case_code": CODE,
        "event_status": status,
        "payload": {"MaHoSo": CODE, "TrangThaiHoSo": status},
        "case_status": status if case_status is None else case_status,
        "received_at": RECEIVED,
        "promised_at": PROMISED,
        "promised_new_at": None,
        "due_at": PROMISED,
        "processing_unit": "Phòng Quản lý đô thị",
        "procedure_name": "Cấp giấy phép xây dựng",
        "agency_name": "UBND phường Bến Thành",
        "applicant_name": "Nguyễn Văn An",
        "chat_id": 42,
    }
    values.update(changes)
    return EventForChat(**values)


def moved(status: int = 5, **changes: Any) -> EventForChat:
    payload = {"MaHoSo": CODE, "TrangThaiHoSo": status, "DanhSachHoSoBoSung": [SUPPLEMENT]}
    values: dict[str, Any] = {"payload": payload, "promised_new_at": MOVED, "due_at": MOVED}
    values.update(changes)
    return event(status, **values)


def intents(*events: EventForChat, survey: tuple[int, ...] = (10,)) -> list[Any]:
    return notice_intents(list(events), survey_statuses=survey, not_before=NOT_BEFORE)


def test_accepted_case_gets_one_notice() -> None:
    [intent] = intents(event(2))
    assert intent.kind == "notice"
    assert intent.chat_id == 42
    assert intent.dedupe_key == f"notice:{CODE}:2"
    assert intent.not_before == NOT_BEFORE
    assert intent.payload == {
        "status": 2,
        "code": CODE,
        "procedure": "Cấp giấy phép xây dựng",
        "due": "2026-03-10T17:00:00",
    }


@pytest.mark.parametrize("status", [2, 5, 6, 9])
def test_each_notice_status_is_keyed_by_case_and_status(status: int) -> None:
    [intent] = intents(event(status))
    assert intent.kind == "notice"
    assert intent.dedupe_key == f"notice:{CODE}:{status}"
    assert intent.payload["status"] == status


def test_notice_without_promised_date_has_no_due() -> None:
    [intent] = intents(event(2, promised_at=None, due_at=None))
    assert intent.payload["due"] is None


def test_an_older_event_of_a_case_that_moved_on_is_not_announced() -> None:
    assert intents(event(2, case_status=4)) == []
    assert intents(event(9, case_status=10)) == []


@pytest.mark.parametrize("status", [1, 3, 4, 7, 8])
def test_statuses_without_a_notice(status: int) -> None:
    assert intents(event(status)) == []


def test_the_survey_status_gets_the_invitation_not_a_notice() -> None:
    assert intents(event(10), survey=(10,)) == []


def test_every_survey_status_is_left_to_the_invitation() -> None:
    assert intents(event(9), survey=(9, 10)) == []
    assert intents(event(10), survey=(9, 10)) == []


def test_returned_gets_a_notice_when_the_survey_comes_at_result_ready() -> None:
    [intent] = intents(event(10), survey=(9,))
    assert intent.dedupe_key == f"notice:{CODE}:10"
    assert intents(event(9), survey=(9,)) == []


def test_a_batch_gives_one_intent_per_announced_event_in_order() -> None:
    batch = [
        event(2, event_id=1, case_code="A-1", chat_id=1),
        event(4, event_id=2, case_code="B-2", chat_id=2),
        event(9, event_id=3, case_code="C-3", chat_id=3),
    ]
    keys = [i.dedupe_key for i in intents(*batch)]
    assert keys == ["notice:A-1:2", "notice:C-3:9"]


# --- apology ----------------------------------------------------------------------------------


def test_supplement_that_moved_the_date_brings_an_apology() -> None:
    found = intents(moved(4))
    assert len(found) == 1
    [apology] = found
    assert apology.kind == "apology"
    assert apology.chat_id == 42
    assert apology.dedupe_key == f"apology:{CODE}:202603200800"
    assert apology.not_before == NOT_BEFORE
    assert apology.payload == {
        "code": CODE,
        "procedure": "Cấp giấy phép xây dựng",
        "name": "Nguyễn Văn An",
        "agency": "UBND phường Bến Thành",
        "unit": "Phòng Quản lý đô thị",
        "received": "2026-03-01T09:30:00",
        "old_due": "2026-03-10",
        "new_due": "2026-03-20T08:00:00",
        "reason": "Chờ ý kiến của cơ quan phối hợp",
    }


def test_supplement_request_gets_both_notice_and_apology() -> None:
    kinds = {i.kind: i.dedupe_key for i in intents(moved(5))}
    assert kinds == {"notice": f"notice:{CODE}:5", "apology": f"apology:{CODE}:202603200800"}


def test_supplement_not_matching_the_current_promised_date_is_no_apology() -> None:
    later = datetime(2026, 3, 25, 8, 0)
    assert intents(moved(4, promised_new_at=later)) == []
    assert intents(moved(4, promised_new_at=None)) == []


def test_the_matching_supplement_among_several_is_used() -> None:
    first = {"NgayHenTraTruoc": "20260305170000", "NgayHenTraMoi": "20260310170000", "LyDo": "A"}
    payload = {"MaHoSo": CODE, "DanhSachHoSoBoSung": [first, SUPPLEMENT]}
    [apology] = intents(moved(4, payload=payload))
    assert apology.payload["old_due"] == "2026-03-10"
    assert apology.payload["reason"] == SUPPLEMENT["LyDo"]


def test_apology_without_old_date_falls_back_to_the_promised_date() -> None:
    supplement = {"NgayHenTraMoi": "20260320080000"}
    payload = {"MaHoSo": CODE, "DanhSachHoSoBoSung": [supplement]}
    [apology] = intents(moved(4, payload=payload))
    assert apology.payload["old_due"] == PROMISED.isoformat()
    assert apology.payload["reason"] is None


def test_apology_for_an_unnamed_applicant() -> None:
    [apology] = intents(moved(4, applicant_name=None, processing_unit=None))
    assert apology.payload["name"] is None
    assert apology.payload["unit"] is None


@pytest.mark.parametrize("junk", ["not a list", [1, "x", None], [{}], None])
def test_malformed_supplement_list_is_ignored(junk: object) -> None:
    payload = {"MaHoSo": CODE, "DanhSachHoSoBoSung": junk}
    assert intents(moved(4, payload=payload)) == []
