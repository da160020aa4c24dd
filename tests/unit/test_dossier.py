"""Validation of dossier-sync payloads: 400 for schema, 422 for impossible data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.onestop.dossier import (
    Dossier,
    DossierError,
    MeaningError,
    SchemaError,
    contract_fields,
    validate,
)
from bot.onestop.json_body import parse_json

REQUIRED = ("MaHoSo", "MaCoQuan", "MaTTHC", "TenTTHC", "TrangThaiHoSo", "NgayTiepNhan")


def payload(**changes: Any) -> dict[str, Any]:
    """A valid delivery with `changes` applied (a `None` value stays in the payload)."""
    base: dict[str, Any] = {
        "MaHoSo": "000.00.01.H56-261005-0001",
        "MaCoQuan": "000.00.01.H56",
        "TenCoQuan": "Sở Tư pháp tỉnh Lâm Đồng",
        "MaTTHC": "1.001234",
        "TenTTHC": "Cấp phiếu lý lịch tư pháp",
        "TrangThaiHoSo": 2,
        "NgayTiepNhan": "20261005083000",
        "NgayHenTra": "20261015170000",
    }
    base.update(changes)
    return base


def drop(*names: str) -> dict[str, Any]:
    data = payload()
    for name in names:
        data.pop(name, None)
    return data


def schema_error(data: Any) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        validate(data)
    assert caught.value.http_status == 400
    return caught.value


def meaning_error(data: Any) -> MeaningError:
    with pytest.raises(MeaningError) as caught:
        validate(data)
    assert caught.value.http_status == 422
    return caught.value


# --- not JSON / not an object --------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b'{"MaHoSo": }', b"\xff\xfe\x00garbage", b"{'MaHoSo': 'x'}"],
)
def test_body_that_is_not_json_is_a_schema_error(body: bytes) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_json(body)
    assert caught.value.http_status == 400
    assert "JSON" in caught.value.message


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_a_schema_error(body: bytes) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_json(body)
    assert caught.value.http_status == 400
    assert caught.value.fields  # names the offending place


def test_deeply_nested_json_is_a_schema_error_not_a_crash() -> None:
    with pytest.raises(SchemaError):
        parse_json(b"[" * 100_000 + b"]" * 100_000)


def test_parse_json_returns_the_object() -> None:
    body = json.dumps(payload(), ensure_ascii=False).encode()
    assert parse_json(body) == payload()


@pytest.mark.parametrize(
    "literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1E+999", b"123.4e99999"]
)
@pytest.mark.parametrize("template", [b'{"x": %s}', b'{"a": [1, {"b": [%s]}]}'])
def test_non_finite_numbers_are_not_json(literal: bytes, template: bytes) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_json(template % literal)
    assert caught.value.http_status == 400
    assert "JSON" in caught.value.message


def test_finite_numbers_at_the_edges_are_json() -> None:
    decoded = parse_json(b'{"big": 1.7976931348623157e308, "tiny": 1e-999, "n": -0.5}')
    assert decoded == {"big": 1.7976931348623157e308, "tiny": 0.0, "n": -0.5}


def test_a_byte_order_mark_is_read_as_json_does() -> None:
    assert parse_json(b"\xef\xbb\xbf" + json.dumps(payload()).encode()) == payload()


# --- required fields and types -------------------------------------------------------------


@pytest.mark.parametrize("field", REQUIRED)
def test_each_missing_required_field_is_named(field: str) -> None:
    error = schema_error(drop(field))
    assert set(error.fields) == {field}


@pytest.mark.parametrize("field", REQUIRED)
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_empty_required_field_counts_as_missing(field: str, empty: Any) -> None:
    error = schema_error(payload(**{field: empty}))
    assert field in error.fields


def test_every_missing_field_is_named_at_once() -> None:
    error = schema_error({})
    assert set(REQUIRED) <= set(error.fields)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("MaHoSo", 12345),
        ("MaHoSo", ["HS-1"]),
        ("MaHoSo", {"id": "HS-1"}),
        ("MaCoQuan", True),
        ("MaTTHC", 1.5),
        ("TenTTHC", 7),
        ("TrangThaiHoSo", True),
        ("TrangThaiHoSo", False),
        ("TrangThaiHoSo", 2.0),
        ("TrangThaiHoSo", 2.5),
        ("TrangThaiHoSo", "abc"),
        ("TrangThaiHoSo", "2.0"),
        ("TrangThaiHoSo", [2]),
        ("NgayTiepNhan", 20261005083000),
        ("NgayHenTra", ["20261015170000"]),
        ("KenhThucHien", "online"),
        ("LoaiDoiTuong", 1.0),
        ("SoDienThoai", 912345678),
        ("ChuHoSo", {"name": "Nguyễn Văn A"}),
    ],
)
def test_wrong_type_is_a_schema_error_naming_the_field(field: str, value: Any) -> None:
    error = schema_error(payload(**{field: value}))
    assert field in error.fields


def test_case_code_of_64_characters_is_accepted() -> None:
    assert validate(payload(MaHoSo="H" * 64)).case_code == "H" * 64


def test_case_code_longer_than_64_characters_is_a_schema_error() -> None:
    error = schema_error(payload(MaHoSo="H" * 65))
    assert set(error.fields) == {"MaHoSo"}


@pytest.mark.parametrize("field", ["MaHoSo", "TenTTHC", "ChuHoSo"])
def test_nul_character_is_a_schema_error(field: str) -> None:
    error = schema_error(payload(**{field: "abc\x00def"}))
    assert field in error.fields


# --- impossible data (422) -----------------------------------------------------------------


@pytest.mark.parametrize("status", [0, 11, -1, 99, "0", "11"])
def test_status_outside_1_to_10_is_a_meaning_error(status: Any) -> None:
    error = meaning_error(payload(TrangThaiHoSo=status))
    assert set(error.fields) == {"TrangThaiHoSo"}


@pytest.mark.parametrize(("raw", "expected"), [("10", 10), (" 9 ", 9), ("1", 1), (10, 10)])
def test_numeric_string_status_is_accepted(raw: Any, expected: int) -> None:
    assert validate(payload(TrangThaiHoSo=raw)).status == expected


@pytest.mark.parametrize(
    "field", ["NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "ThoiDiemXuLy"]
)
@pytest.mark.parametrize(
    "raw",
    [
        "2026-10-05",
        "20261305083000",  # month 13
        "20260230083000",  # 30 February
        "20261005253000",  # hour 25
        "2026100508300",  # 13 digits
        "202610050830000",  # 15 digits
        "05/10/2026 08:30",
        "2026-10-05T08:30:00+07:00",
        "２０２６１００５０８３０００",  # full-width digits
        "20261005083060",  # second 60
        "00001005083000",  # year 0
    ],
)
def test_unparseable_date_is_a_meaning_error_naming_the_field(field: str, raw: str) -> None:
    # NgayTiepNhan is pushed far back so that no other date is "before receipt".
    data = payload(NgayHenTra=None)
    data[field] = raw
    if field != "NgayTiepNhan":
        data["NgayTiepNhan"] = "20200101000000"
    error = meaning_error(data)
    assert set(error.fields) == {field}


def test_promised_date_before_receipt_is_a_meaning_error() -> None:
    error = meaning_error(payload(NgayTiepNhan="20261005083000", NgayHenTra="20261004170000"))
    assert set(error.fields) == {"NgayHenTra"}


def test_promised_on_the_receipt_day_even_at_an_earlier_hour_is_accepted() -> None:
    dossier = validate(payload(NgayTiepNhan="20261005083000", NgayHenTra="20261005070000"))
    assert dossier.promised_at == datetime(2026, 10, 5, 7, 0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("KenhThucHien", 4), ("KenhThucHien", 0), ("LoaiDoiTuong", 3), ("LoaiDoiTuong", "0")],
)
def test_unknown_channel_or_applicant_code_is_a_meaning_error(field: str, value: Any) -> None:
    error = meaning_error(payload(**{field: value}))
    assert set(error.fields) == {field}


@pytest.mark.parametrize(("channel", "expected"), [(1, 1), (2, 2), (3, 3), ("3", 3)])
def test_known_channel_codes_are_accepted(channel: Any, expected: int) -> None:
    assert validate(payload(KenhThucHien=channel)).channel == expected


def test_schema_errors_are_reported_before_meaning_errors() -> None:
    # Both a missing field (400) and an impossible status (422): the 400 answers.
    data = drop("MaTTHC")
    data["TrangThaiHoSo"] = 42
    error = schema_error(data)
    assert "MaTTHC" in error.fields


def test_both_error_kinds_are_dossier_errors() -> None:
    assert issubclass(SchemaError, DossierError)
    assert issubclass(MeaningError, DossierError)


# --- supplements ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["20261020170000", {"NgayHenTraMoi": "20261020170000"}, 3])
def test_supplement_list_that_is_not_a_list_is_a_schema_error(value: Any) -> None:
    error = schema_error(payload(DanhSachHoSoBoSung=value))
    assert "DanhSachHoSoBoSung" in error.fields


@pytest.mark.parametrize("item", ["20261020170000", 5, None, ["x"]])
def test_supplement_item_that_is_not_an_object_is_a_schema_error(item: Any) -> None:
    error = schema_error(payload(DanhSachHoSoBoSung=[{"LyDo": "ok"}, item]))
    assert set(error.fields) == {"DanhSachHoSoBoSung[1]"}


def test_supplement_field_of_wrong_type_is_a_schema_error() -> None:
    error = schema_error(payload(DanhSachHoSoBoSung=[{"NgayHenTraMoi": 20261020170000}]))
    assert set(error.fields) == {"DanhSachHoSoBoSung[0].NgayHenTraMoi"}


@pytest.mark.parametrize("raw", ["2026-10-20", "20261320170000", "soon"])
def test_bad_new_promised_date_is_a_meaning_error_naming_the_item(raw: str) -> None:
    error = meaning_error(payload(DanhSachHoSoBoSung=[{"NgayHenTraMoi": raw, "LyDo": "thiếu"}]))
    assert set(error.fields) == {"DanhSachHoSoBoSung[0].NgayHenTraMoi"}


def test_bad_date_in_a_later_supplement_names_its_index() -> None:
    items = [{"NgayHenTraMoi": "20261020170000"}, {"NgayHenTraTruoc": "x"}]
    error = meaning_error(payload(DanhSachHoSoBoSung=items))
    assert set(error.fields) == {"DanhSachHoSoBoSung[1].NgayHenTraTruoc"}


def test_supplements_are_read() -> None:
    dossier = validate(
        payload(
            DanhSachHoSoBoSung=[
                {
                    "NgayHenTraTruoc": "20261015170000",
                    "NgayHenTraMoi": "20261022170000",
                    "LyDo": "  Thiếu bản sao giấy khai sinh  ",
                }
            ]
        )
    )
    (item,) = dossier.supplements
    assert item.previous_due == datetime(2026, 10, 15, 17, 0, 0)
    assert item.new_due == datetime(2026, 10, 22, 17, 0, 0)
    assert item.reason == "Thiếu bản sao giấy khai sinh"


def test_null_supplement_list_is_no_supplement() -> None:
    dossier = validate(payload(DanhSachHoSoBoSung=None))
    assert dossier.supplements == ()
    assert dossier.promised_new_at is None


def test_promised_new_at_is_the_latest_new_promised_date() -> None:
    items = [
        {"NgayHenTraMoi": "20261025170000"},
        {"NgayHenTraMoi": "20261030080000"},
        {"NgayHenTraMoi": "20261020170000"},
        {"NgayHenTraMoi": "", "LyDo": "chưa hẹn lại"},
    ]
    dossier = validate(payload(DanhSachHoSoBoSung=items))
    assert dossier.promised_new_at == datetime(2026, 10, 30, 8, 0, 0)
    # The original promise is kept as it was sent.
    assert dossier.promised_at == datetime(2026, 10, 15, 17, 0, 0)


def test_supplement_without_new_date_does_not_move_the_promise() -> None:
    dossier = validate(payload(DanhSachHoSoBoSung=[{"LyDo": "bổ sung"}]))
    assert dossier.promised_new_at is None


# --- optional fields, text, dates ----------------------------------------------------------


def test_empty_optional_fields_are_treated_as_absent() -> None:
    dossier = validate(
        payload(
            TenCoQuan="",
            NgayHenTra="",
            NgayKetThucXuLy="   ",
            NgayTra="",
            ThoiDiemXuLy="",
            ChuHoSo="",
            SoDienThoai=" ",
            Email="",
            NguoiXuLy="",
            DonViXuLy="",
            MaLinhVuc="",
            TenLinhVuc="",
            KenhThucHien="",
            LoaiDoiTuong="  ",
            DanhSachHoSoBoSung=[{"NgayHenTraTruoc": "", "NgayHenTraMoi": "", "LyDo": ""}],
        )
    )
    assert dossier.agency_name is None
    assert dossier.promised_at is None
    assert dossier.finished_at is None
    assert dossier.returned_at is None
    assert dossier.processed_at is None
    assert dossier.applicant_name is None
    assert dossier.phone is None
    assert dossier.email is None
    assert dossier.officer_name is None
    assert dossier.processing_unit is None
    assert dossier.field_code is None
    assert dossier.field_name is None
    assert dossier.channel is None
    assert dossier.applicant_type is None
    assert dossier.promised_new_at is None
    assert dossier.supplements[0].reason is None


def test_null_optional_fields_are_treated_as_absent() -> None:
    dossier = validate(payload(TenCoQuan=None, NgayHenTra=None, KenhThucHien=None))
    assert (dossier.agency_name, dossier.promised_at, dossier.channel) == (None, None, None)


def test_vietnamese_text_with_diacritics_is_kept_exactly() -> None:
    texts = {
        "TenCoQuan": "Ủy ban nhân dân phường Hải Châu",
        "TenTTHC": "Đăng ký khai sinh, khai tử; chứng thực bản sao từ bản chính",
        "ChuHoSo": "Nguyễn Thị Ánh Tuyết",
        "NguoiXuLy": "Trần Quốc Hưng",
        "DonViXuLy": "Bộ phận Một cửa — Trung tâm Phục vụ hành chính công",
        "TenLinhVuc": "Hộ tịch",
    }
    dossier = validate(payload(**texts))
    assert dossier.agency_name == texts["TenCoQuan"]
    assert dossier.procedure_name == texts["TenTTHC"]
    assert dossier.applicant_name == texts["ChuHoSo"]
    assert dossier.officer_name == texts["NguoiXuLy"]
    assert dossier.processing_unit == texts["DonViXuLy"]
    assert dossier.field_name == texts["TenLinhVuc"]


def test_vietnamese_text_survives_the_json_round_trip() -> None:
    name = "Lê Thị Hồng Nhung"
    body = json.dumps(payload(ChuHoSo=name), ensure_ascii=False).encode("utf-8")
    assert validate(parse_json(body)).applicant_name == name
    escaped = json.dumps(payload(ChuHoSo=name), ensure_ascii=True).encode("ascii")
    assert validate(parse_json(escaped)).applicant_name == name


def test_all_fields_are_read_into_the_dossier() -> None:
    dossier = validate(
        payload(
            MaHoSo="  HS-7  ",
            TrangThaiHoSo="10",
            NgayKetThucXuLy="20261014100000",
            NgayTra="20261014153000",
            ChuHoSo="Phạm Văn Bình",
            SoDienThoai="0912 345 678",
            Email="binh@example.vn",
            NguoiXuLy="Cán bộ A",
            DonViXuLy="Phòng Hành chính Tư pháp",
            MaLinhVuc="HT",
            TenLinhVuc="Hộ tịch",
            KenhThucHien=2,
            LoaiDoiTuong=1,
        )
    )
    assert isinstance(dossier, Dossier)
    assert dossier.case_code == "HS-7"
    assert dossier.agency_code == "000.00.01.H56"
    assert dossier.procedure_code == "1.001234"
    assert dossier.status == 10
    assert dossier.received_at == datetime(2026, 10, 5, 8, 30, 0)
    assert dossier.promised_at == datetime(2026, 10, 15, 17, 0, 0)
    assert dossier.finished_at == datetime(2026, 10, 14, 10, 0, 0)
    assert dossier.returned_at == datetime(2026, 10, 14, 15, 30, 0)
    assert dossier.phone == "0912 345 678"
    assert dossier.email == "binh@example.vn"
    assert dossier.field_code == "HT"
    assert (dossier.channel, dossier.applicant_type) == (2, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20261005083000", datetime(2026, 10, 5, 8, 30, 0)),
        ("20260101000000", datetime(2026, 1, 1, 0, 0, 0)),
        ("20261231235959", datetime(2026, 12, 31, 23, 59, 59)),
        ("20280229120000", datetime(2028, 2, 29, 12, 0, 0)),
        (" 20261005083000 ", datetime(2026, 10, 5, 8, 30, 0)),
    ],
)
def test_dates_are_read_as_yyyymmddhhmmss(raw: str, expected: datetime) -> None:
    dossier = validate(payload(NgayTiepNhan=raw, NgayHenTra=None))
    assert dossier.received_at == expected
    assert dossier.received_at.tzinfo is None


def test_29_february_of_a_common_year_is_a_meaning_error() -> None:
    error = meaning_error(payload(NgayTiepNhan="20270229120000", NgayHenTra=None))
    assert set(error.fields) == {"NgayTiepNhan"}


# --- event time ----------------------------------------------------------------------------


def test_processing_moment_is_the_event_time_when_present() -> None:
    dossier = validate(
        payload(
            TrangThaiHoSo=10,
            NgayKetThucXuLy="20261014100000",
            NgayTra="20261014153000",
            ThoiDiemXuLy="20261010090000",
        )
    )
    assert dossier.event_at == datetime(2026, 10, 10, 9, 0, 0)


def test_event_time_without_processing_moment_is_the_latest_date_that_happened() -> None:
    dossier = validate(
        payload(TrangThaiHoSo=10, NgayKetThucXuLy="20261014100000", NgayTra="20261013153000")
    )
    assert dossier.event_at == datetime(2026, 10, 14, 10, 0, 0)
    dossier = validate(
        payload(TrangThaiHoSo=10, NgayKetThucXuLy="20261012100000", NgayTra="20261013153000")
    )
    assert dossier.event_at == datetime(2026, 10, 13, 15, 30, 0)


def test_event_time_of_a_bare_receipt_is_the_receipt() -> None:
    dossier = validate(payload())
    assert dossier.event_at == datetime(2026, 10, 5, 8, 30, 0)


def test_promised_dates_never_count_as_event_time() -> None:
    dossier = validate(
        payload(
            NgayHenTra="20261115170000",
            DanhSachHoSoBoSung=[
                {"NgayHenTraTruoc": "20261115170000", "NgayHenTraMoi": "20261201170000"}
            ],
        )
    )
    assert dossier.event_at == datetime(2026, 10, 5, 8, 30, 0)


# --- event time in the future --------------------------------------------------------------

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# The server's clock plus the skew: 10:05 in Hà Nội, 03:05 UTC.
NOT_AFTER = datetime(2026, 10, 5, 10, 5, 0, tzinfo=HCM)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def test_a_processing_moment_after_the_limit_is_a_meaning_error_naming_it() -> None:
    with pytest.raises(MeaningError) as caught:
        validate(payload(ThoiDiemXuLy="20991231235959"), not_after=NOT_AFTER)
    assert set(caught.value.fields) == {"ThoiDiemXuLy"}


def test_the_dates_are_read_as_local_times_of_the_limit_s_zone() -> None:
    """10:05 in Hà Nội is 03:05 UTC: a naive local 10:05:00 is at the limit, 10:05:01 past it."""
    at_limit = payload(ThoiDiemXuLy="20261005100500")
    assert validate(at_limit, not_after=NOT_AFTER).event_at == datetime(2026, 10, 5, 10, 5)
    with pytest.raises(MeaningError):
        validate(payload(ThoiDiemXuLy="20261005100501"), not_after=NOT_AFTER)


@pytest.mark.parametrize("field", ["NgayTiepNhan", "NgayKetThucXuLy", "NgayTra"])
def test_without_processing_moment_any_happened_date_after_the_limit_is_refused(
    field: str,
) -> None:
    future = stamp(NOT_AFTER.replace(tzinfo=None) + timedelta(seconds=1))
    data = payload(TrangThaiHoSo=10, NgayHenTra="20991231170000", **{field: future})
    with pytest.raises(MeaningError) as caught:
        validate(data, not_after=NOT_AFTER)
    assert set(caught.value.fields) == {field}


def test_every_future_field_is_named_at_once() -> None:
    data = payload(TrangThaiHoSo=10, NgayKetThucXuLy="20991231000000", NgayTra="20991231100000")
    with pytest.raises(MeaningError) as caught:
        validate(data, not_after=NOT_AFTER)
    assert set(caught.value.fields) == {"NgayKetThucXuLy", "NgayTra"}


def test_with_a_processing_moment_other_dates_are_not_the_event_time() -> None:
    data = payload(ThoiDiemXuLy="20261005100000", NgayTra="20991231100000")
    assert validate(data, not_after=NOT_AFTER).event_at == datetime(2026, 10, 5, 10, 0)


def test_promised_dates_may_lie_in_the_future() -> None:
    data = payload(
        NgayHenTra="20991231170000",
        DanhSachHoSoBoSung=[
            {"NgayHenTraTruoc": "20991231170000", "NgayHenTraMoi": "21001231170000"}
        ],
    )
    assert validate(data, not_after=NOT_AFTER).promised_new_at == datetime(2100, 12, 31, 17, 0)


def test_without_a_limit_the_future_is_not_checked() -> None:
    assert validate(payload(ThoiDiemXuLy="20991231235959")).event_at.year == 2099


# --- what the inbox keeps ------------------------------------------------------------------


def test_contract_fields_keep_the_contract_and_drop_everything_else() -> None:
    sent = payload(
        SoDienThoai="0912345678",
        Email="a@example.vn",
        KenhThucHien=2,
        SoCCCD="079301001234",
        DiaChi="12 Lê Lợi",
        GhiChu={"x": 1},
        DanhSachHoSoBoSung=[
            {
                "NgayHenTraTruoc": "20261015170000",
                "NgayHenTraMoi": "20261020170000",
                "LyDo": "Thiếu giấy tờ",
                "SoCCCD": "079301001234",
                "SoDienThoai": "0987654321",
            },
            {"LyDo": "Lần hai"},
        ],
    )
    original = json.loads(json.dumps(sent))
    kept = contract_fields(sent)
    assert sent == original  # the delivery itself is left as it was
    assert set(kept) == set(payload()) | {
        "SoDienThoai",
        "Email",
        "KenhThucHien",
        "DanhSachHoSoBoSung",
    }
    assert kept["SoDienThoai"] == "0912345678"  # masking is the caller's (it holds the key)
    assert kept["DanhSachHoSoBoSung"] == [
        {
            "NgayHenTraTruoc": "20261015170000",
            "NgayHenTraMoi": "20261020170000",
            "LyDo": "Thiếu giấy tờ",
        },
        {"LyDo": "Lần hai"},
    ]


def test_contract_fields_keep_a_null_supplement_list_as_null() -> None:
    assert contract_fields(payload(DanhSachHoSoBoSung=None))["DanhSachHoSoBoSung"] is None
    assert "DanhSachHoSoBoSung" not in contract_fields(payload())
