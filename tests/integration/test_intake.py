"""Intake through the real app and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from storage.db import create_engine
from tests.support import bearer, dossier, signed


async def post(client: TestClient, payload: dict[str, Any], **kw: Any) -> tuple[int, Any]:
    body, headers = signed(payload, **kw)
    response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    return response.status, await response.json()


async def read_case(client: TestClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{code}", headers=bearer())
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]
    finally:
        await engine.dispose()


async def test_new_event_is_accepted_with_links(client: TestClient) -> None:
    status, body = await post(client, dossier())
    assert status == 202
    assert body["MaHoSo"] == "H12.22-261001-0001"
    assert body["TrangThaiHoSo"] == 2
    assert body["links"]["telegram"] is None  # no bot configured
    assert body["links"]["zalo"] is None
    assert body["links"]["web"].startswith("http://127.0.0.1:8080/s/")


async def test_twenty_identical_deliveries_at_once_apply_once(
    client: TestClient, migrated_url: str
) -> None:
    body, headers = signed(dossier(TrangThaiHoSo=4))

    async def deliver() -> tuple[int, Any]:
        response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
        return response.status, await response.json()

    results = await asyncio.gather(*(deliver() for _ in range(20)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [202]
    assert {answer["TrangThaiHoSo"] for _, answer in results} == {4}
    assert len({answer["links"]["web"] for _, answer in results}) == 1
    events = await rows(migrated_url, "SELECT count(*) AS n FROM case_events")
    assert events[0]["n"] == 1
    case = await read_case(client, "H12.22-261001-0001")
    assert case["events"] == 1


async def test_repeated_delivery_answers_200_with_the_same_links(client: TestClient) -> None:
    first_status, first = await post(client, dossier())
    again_status, again = await post(client, dossier())
    assert (first_status, again_status) == (202, 200)
    assert again == first


async def test_idempotency_key_makes_different_bodies_one_event(client: TestClient) -> None:
    assert (await post(client, dossier(TrangThaiHoSo=2), key="evt-1"))[0] == 202
    status, body = await post(client, dossier(TrangThaiHoSo=4), key="evt-1")
    assert status == 200
    assert body["TrangThaiHoSo"] == 2
    assert (await read_case(client, "H12.22-261001-0001"))["TrangThaiHoSo"] == 2


LIFECYCLE = [
    dossier(TrangThaiHoSo=2, ThoiDiemXuLy="20261001083000"),
    dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000", NguoiXuLy="Lê Minh Tâm"),
    dossier(TrangThaiHoSo=9, ThoiDiemXuLy="20261006160000", NgayKetThucXuLy="20261006160000"),
    dossier(
        TrangThaiHoSo=10,
        ThoiDiemXuLy="20261007100000",
        NgayKetThucXuLy="20261006160000",
        NgayTra="20261007100000",
    ),
]


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
async def test_out_of_order_events_converge_to_the_newest_state(
    client: TestClient, order: list[int]
) -> None:
    answers = [await post(client, LIFECYCLE[i]) for i in order]
    assert all(status == 202 for status, _ in answers)
    case = await read_case(client, "H12.22-261001-0001")
    assert case["TrangThaiHoSo"] == 10
    assert case["events"] == 4
    assert case["timeliness"] == "early"  # finished 06/10, promised 08/10
    assert case["NgayKetThucXuLy"] == "2026-10-06T16:00:00+07:00"


async def test_an_older_event_enters_history_without_moving_the_state(
    client: TestClient,
) -> None:
    await post(client, LIFECYCLE[3])
    status, body = await post(client, LIFECYCLE[1])
    assert status == 202  # a new delivery, kept in the history
    assert body["TrangThaiHoSo"] == 10  # the case stays where the newest event put it
    case = await read_case(client, "H12.22-261001-0001")
    assert (case["TrangThaiHoSo"], case["events"]) == (10, 2)


async def test_supplement_moves_the_promised_date(client: TestClient) -> None:
    await post(client, dossier(TrangThaiHoSo=2, ThoiDiemXuLy="20261001083000"))
    await post(
        client,
        dossier(
            TrangThaiHoSo=5,
            ThoiDiemXuLy="20261003100000",
            DanhSachHoSoBoSung=[
                {
                    "NgayHenTraTruoc": "20261008170000",
                    "NgayHenTraMoi": "20261012170000",
                    "LyDo": "Bổ sung bản sao giấy tờ tùy thân",
                }
            ],
        ),
    )
    await post(
        client,
        dossier(TrangThaiHoSo=9, ThoiDiemXuLy="20261010150000", NgayKetThucXuLy="20261010150000"),
    )
    case = await read_case(client, "H12.22-261001-0001")
    assert case["NgayHenTra"] == "2026-10-12T17:00:00+07:00"
    assert case["timeliness"] == "early"  # late against 08/10, early against the moved 12/10


async def test_late_and_on_time_endings(client: TestClient) -> None:
    await post(
        client,
        dossier(
            "LATE-1", TrangThaiHoSo=10, NgayKetThucXuLy="20261009080000", NgayTra="20261009090000"
        ),
    )
    await post(
        client,
        dossier("ONTIME-1", TrangThaiHoSo=8, ThoiDiemXuLy="20261008235900"),
    )
    assert (await read_case(client, "LATE-1"))["timeliness"] == "late"
    assert (await read_case(client, "ONTIME-1"))["timeliness"] == "on_time"


async def test_open_case_past_its_promised_date_is_overdue(client: TestClient) -> None:
    await post(client, dossier("OLD-1", NgayTiepNhan="20200101080000", NgayHenTra="20200110170000"))
    await post(client, dossier("NEW-1", NgayTiepNhan="20261001080000", NgayHenTra="20991231170000"))
    assert (await read_case(client, "OLD-1"))["timeliness"] == "overdue"
    assert (await read_case(client, "NEW-1"))["timeliness"] == "open"


async def test_vietnamese_text_round_trips(client: TestClient, migrated_url: str) -> None:
    payload = dossier(
        TenCoQuan="Ủy ban nhân dân phường Thuận Hóa",
        TenTTHC="Đăng ký khai sinh kết hợp nhận cha, mẹ, con — thủ tục liên thông",
        ChuHoSo="Nguyễn Thị Ngọc Ánh",
        NguoiXuLy="Phạm Đức Thắng",
        TenLinhVuc="Hộ tịch",
        MaLinhVuc="HT",
    )
    assert (await post(client, payload))[0] == 202
    agency = await rows(migrated_url, "SELECT name FROM agencies")
    procedure = await rows(migrated_url, "SELECT name, field_name FROM procedures")
    contact = await rows(migrated_url, "SELECT applicant_name, phone FROM case_contacts")
    officer = await rows(migrated_url, "SELECT name FROM officers")
    stored = await rows(migrated_url, "SELECT payload FROM case_events")
    assert agency[0]["name"] == "Ủy ban nhân dân phường Thuận Hóa"
    assert procedure[0] == {
        "name": "Đăng ký khai sinh kết hợp nhận cha, mẹ, con — thủ tục liên thông",
        "field_name": "Hộ tịch",
    }
    assert contact[0] == {"applicant_name": "Nguyễn Thị Ngọc Ánh", "phone": None}
    assert officer[0]["name"] == "Phạm Đức Thắng"
    payload_back = stored[0]["payload"]
    if isinstance(payload_back, str):
        payload_back = json.loads(payload_back)
    assert payload_back["ChuHoSo"] == "Nguyễn Thị Ngọc Ánh"
    # The inbox keeps no raw phone number.
    assert "0912345678" not in json.dumps(payload_back)


async def test_agencies_and_procedures_are_created_on_first_sight_and_named_later(
    client: TestClient, migrated_url: str
) -> None:
    await post(client, dossier("A-1", MaCoQuan="XA-01", TenCoQuan=None, MaTTHC="2.000001"))
    assert (await rows(migrated_url, "SELECT code, name FROM agencies")) == [
        {"code": "XA-01", "name": "XA-01"}
    ]
    await post(client, dossier("A-2", MaCoQuan="XA-01", TenCoQuan="UBND xã Tân Lập"))
    await post(client, dossier("A-3", MaCoQuan="XA-01", TenCoQuan="Tên khác"))
    assert (await rows(migrated_url, "SELECT name FROM agencies"))[0]["name"] == "UBND xã Tân Lập"
    codes = await rows(migrated_url, "SELECT code FROM procedures ORDER BY code")
    assert [r["code"] for r in codes] == ["1.001612", "2.000001"]


async def test_a_burst_of_mixed_deliveries_applies_each_exactly_once(
    client: TestClient, migrated_url: str
) -> None:
    """Forty cases' lifecycles, shuffled and sent at once with repeats: batched statements must
    give every delivery its own answer and converge every case as if sent one by one."""
    deliveries: list[dict[str, Any]] = []
    for n in range(40):
        code = f"B-{n:03d}"
        agency = f"XA-{n % 3}"
        for step in LIFECYCLE:
            deliveries.append({**step, "MaHoSo": code, "MaCoQuan": agency})
    # A new procedure and a new officer arrive inside the burst.
    deliveries[5] = {**deliveries[5], "MaTTHC": "9.999999", "TenTTHC": "Thủ tục mới"}
    deliveries[9] = {**deliveries[9], "NguoiXuLy": "Phạm Thị Lan"}
    order = sorted(range(len(deliveries)), key=lambda i: (i * 7919) % len(deliveries))
    burst = [deliveries[i] for i in order] + deliveries[:20]  # twenty repeats at the end
    answers = await asyncio.gather(*(post(client, d) for d in burst))
    statuses = [status for status, _ in answers]
    assert statuses.count(202) == 160
    assert statuses.count(200) == 20
    for (_status, body), sent in zip(answers, burst, strict=True):
        assert body["MaHoSo"] == sent["MaHoSo"]
        assert 2 <= body["TrangThaiHoSo"] <= 10
    events = await rows(migrated_url, "SELECT count(*) AS n FROM case_events")
    assert events[0]["n"] == 160
    for n in (0, 17, 39):
        case = await read_case(client, f"B-{n:03d}")
        assert (case["TrangThaiHoSo"], case["events"], case["timeliness"]) == (10, 4, "early")
    officers = await rows(migrated_url, "SELECT name FROM officers WHERE name = 'Phạm Thị Lan'")
    assert len(officers) == 1
    procedures = await rows(migrated_url, "SELECT name FROM procedures WHERE code = '9.999999'")
    assert procedures == [{"name": "Thủ tục mới"}]


async def test_many_events_of_one_case_at_once_all_count(client: TestClient) -> None:
    """Events of one case cannot share a statement; they wait for each other and all count."""
    sends = [
        dossier(TrangThaiHoSo=4, ThoiDiemXuLy=f"202610020{hour}0000", DonViXuLy=f"Tổ {hour}")
        for hour in range(10)
    ]
    answers = await asyncio.gather(*(post(client, d) for d in sends))
    assert [status for status, _ in answers] == [202] * 10
    case = await read_case(client, "H12.22-261001-0001")
    assert case["events"] == 10


async def test_read_api_requires_the_token_and_knows_unknown_cases(client: TestClient) -> None:
    await post(client, dossier())
    assert (await client.get("/api/v1/cases/H12.22-261001-0001")).status == 401
    wrong = await client.get("/api/v1/cases/H12.22-261001-0001", headers=bearer("nope"))
    assert wrong.status == 401
    missing = await client.get("/api/v1/cases/NO-SUCH", headers=bearer())
    assert missing.status == 404
    assert "error" in await missing.json()
    case = await read_case(client, "H12.22-261001-0001")
    assert case == {
        "MaHoSo": "H12.22-261001-0001",
        "MaCoQuan": "000.00.01.H12",
        "MaTTHC": "1.001612",
        "TrangThaiHoSo": 2,
        "NgayTiepNhan": "2026-10-01T08:30:00+07:00",
        "NgayHenTra": "2026-10-08T17:00:00+07:00",
        "NgayKetThucXuLy": None,
        "timeliness": case["timeliness"],
        "events": 1,
        "survey": {"status": "none", "answers": 0},
    }
    assert case["timeliness"] in {"open", "overdue"}


async def test_citizen_page_shows_the_case_behind_the_link(client: TestClient) -> None:
    _, body = await post(client, dossier())
    path = body["links"]["web"].removeprefix("http://127.0.0.1:8080")
    page = await client.get(path)
    html = await page.text()
    assert page.status == 200
    assert "H12.22-261001-0001" in html
    assert "Cấp giấy chứng nhận đăng ký hộ kinh doanh" in html
    assert "Được tiếp nhận" in html
    assert "Nguyễn Thị Hằng" not in html  # nothing personal on the page
    unknown = await client.get("/s/AAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status == 404
    assert "Không tìm thấy hồ sơ" in await unknown.text()


async def test_health_and_metrics(client: TestClient) -> None:
    health = await client.get("/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok", "database": "ok"})
    await post(client, dossier())
    await post(client, dossier())
    await client.post("/api/v1/onestop/events", data=b"{}", headers={"Content-Type": "text/plain"})
    exported = await (await client.get("/metrics")).text()
    assert 'sipas_intake_events_accepted_total{result="new"} 1.0' in exported
    assert 'sipas_intake_events_accepted_total{result="duplicate"} 1.0' in exported
    assert 'sipas_intake_events_rejected_total{reason="content_type"} 1.0' in exported
    assert "sipas_http_request_duration_seconds_bucket" in exported
