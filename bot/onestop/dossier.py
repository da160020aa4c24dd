"""Validation of one-stop dossier-sync payloads (DVCQG field names, interfaces.md "Intake").

Two kinds of failure, answered differently by the endpoint:
- `SchemaError` (400): not a JSON object, a required field missing, a value of the wrong type or
  size. Every offending field is named.
- `MeaningError` (422): well-formed but impossible: status outside 1–10, unparseable dates,
  a promised date before the receipt date, unknown channel codes, an event time in the future.

`contract_fields` is what the inbox may keep of a payload: the contract's fields and nothing
else (identity numbers, addresses and unknown fields are dropped). Decoding the body into the
object validated here is `bot.onestop.json_body.parse_json`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_DATE_RE = re.compile(r"[0-9]{14}")
_DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "ThoiDiemXuLy")
# Dates that record something that happened; promised dates are not "event time".
_HAPPENED_FIELDS = ("NgayTiepNhan", "NgayKetThucXuLy", "NgayTra")
_SUPPLEMENTS = "DanhSachHoSoBoSung"
_SUPPLEMENT_FIELDS = ("NgayHenTraTruoc", "NgayHenTraMoi", "LyDo")

# field: (required, max length)
_STRING_FIELDS: dict[str, tuple[bool, int]] = {
    "MaHoSo": (True, 64),
    "MaCoQuan": (True, 64),
    "TenCoQuan": (False, 500),
    "MaTTHC": (True, 64),
    "TenTTHC": (True, 1000),
    "ChuHoSo": (False, 500),
    "SoDienThoai": (False, 32),
    "Email": (False, 320),
    "NguoiXuLy": (False, 255),
    "DonViXuLy": (False, 500),
    "MaLinhVuc": (False, 64),
    "TenLinhVuc": (False, 500),
}
# field: (required, allowed values)
_INT_FIELDS: dict[str, tuple[bool, range]] = {
    "TrangThaiHoSo": (True, range(1, 11)),
    "KenhThucHien": (False, range(1, 4)),
    "LoaiDoiTuong": (False, range(1, 3)),
}


class DossierError(Exception):
    """A payload the endpoint refuses; `fields` names each offending field."""

    http_status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class SchemaError(DossierError):
    """Not JSON, not an object, or a field missing or of the wrong type (HTTP 400)."""

    http_status = 400


class MeaningError(DossierError):
    """Well-formed but impossible data (HTTP 422)."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class Supplement:
    previous_due: datetime | None
    new_due: datetime | None
    reason: str | None


@dataclass(slots=True, kw_only=True)
class Dossier:
    """A valid event about one case. Dates are naive local times.

    Treated as immutable; not declared frozen because a frozen dataclass of this size costs
    3 µs more to build, on every delivery."""

    case_code: str
    agency_code: str
    agency_name: str | None
    procedure_code: str
    procedure_name: str
    status: int
    received_at: datetime
    promised_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    processed_at: datetime | None
    applicant_name: str | None
    phone: str | None
    email: str | None
    officer_name: str | None
    processing_unit: str | None
    field_code: str | None
    field_name: str | None
    channel: int | None
    applicant_type: int | None
    supplements: tuple[Supplement, ...]

    @property
    def event_at(self) -> datetime:
        """`ThoiDiemXuLy`, else the latest date of something that happened in the event."""
        if self.processed_at is not None:
            return self.processed_at
        happened = [d for d in (self.received_at, self.finished_at, self.returned_at) if d]
        return max(happened)

    @property
    def promised_new_at(self) -> datetime | None:
        """The latest new promised date among the supplement requests."""
        moved = [s.new_due for s in self.supplements if s.new_due is not None]
        return max(moved) if moved else None


# The fields the inbox keeps (interfaces.md "Intake", the contract's table); supplement items
# keep `_SUPPLEMENT_FIELDS`, which the apology notice reads back.
_STORED_FIELDS = (*_STRING_FIELDS, *_INT_FIELDS, *_DATE_FIELDS)


def contract_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """A new dict of the contract's fields present in a validated `payload`, values as sent."""
    stored = {name: payload[name] for name in _STORED_FIELDS if name in payload}
    if _SUPPLEMENTS in payload:
        items = payload[_SUPPLEMENTS]
        stored[_SUPPLEMENTS] = (
            [
                {key: item[key] for key in _SUPPLEMENT_FIELDS if key in item}
                for item in items
                if isinstance(item, dict)
            ]
            if isinstance(items, list)
            else None
        )
    return stored


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_string(name: str, value: Any, max_len: int, problems: dict[str, str]) -> str | None:
    if not isinstance(value, str):
        problems[name] = "must be a string"
        return None
    value = value.strip()
    if len(value) > max_len:
        problems[name] = f"must be at most {max_len} characters"
        return None
    if "\x00" in value:
        problems[name] = "must not contain NUL characters"
        return None
    return value


def _check_int(name: str, value: Any, problems: dict[str, str]) -> int | None:
    if isinstance(value, bool):
        problems[name] = "must be an integer"
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    problems[name] = "must be an integer (a number or a numeric string)"
    return None


def _parse_date(name: str, value: str, problems: dict[str, str]) -> datetime | None:
    if not _DATE_RE.fullmatch(value):
        problems[name] = "must be a date yyyyMMddHHmmss"
        return None
    try:
        # Sliced by hand: the pattern has fixed every position, and strptime is ten times slower.
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            int(value[12:14]),
        )
    except ValueError:
        problems[name] = "is not a real date (yyyyMMddHHmmss)"
        return None


def _check_supplements(value: Any, schema: dict[str, str]) -> list[dict[str, Any]]:
    name = _SUPPLEMENTS
    if not isinstance(value, list):
        schema[name] = "must be a list of objects"
        return []
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            schema[where] = "must be an object"
            continue
        for key in _SUPPLEMENT_FIELDS:
            part = item.get(key)
            if not _absent(part) and not isinstance(part, str):
                schema[f"{where}.{key}"] = "must be a string"
        items.append(item)
    return items


def _future_fields(
    dates: dict[str, datetime | None], *, timed: bool, not_after: datetime
) -> list[str]:
    """The fields that would make the event time later than `not_after` (aware).

    The event time is `ThoiDiemXuLy` when the event carries one (`timed`), else its latest date
    of something that happened (`Dossier.event_at`); promised dates never count. The naive local
    dates are read in `not_after`'s zone, so the comparison is in absolute time.
    """
    names = ("ThoiDiemXuLy",) if timed else _HAPPENED_FIELDS
    zone = not_after.tzinfo
    return [
        name
        for name in names
        if (moment := dates[name]) is not None and moment.replace(tzinfo=zone) > not_after
    ]


def validate(payload: dict[str, Any], *, not_after: datetime | None = None) -> Dossier:
    """Check a decoded payload against the contract; raise `SchemaError` or `MeaningError`.

    With `not_after` (an aware moment: the server's clock plus the allowed skew), an event dated
    after it is impossible data: a far-future event time would outrank every real event of its
    case for good.
    """
    schema: dict[str, str] = {}
    strings: dict[str, str | None] = {}
    for name, (required, max_len) in _STRING_FIELDS.items():
        value = payload.get(name)
        if type(value) is str:
            # The common case inline: a present, clean string within its length.
            value = value.strip()
            if value and len(value) <= max_len and "\x00" not in value:
                strings[name] = value
                continue
        if _absent(value):
            if required:
                schema[name] = "is required"
            strings[name] = None
            continue
        strings[name] = _check_string(name, value, max_len, schema)

    ints: dict[str, int | None] = {}
    for name, (required, _allowed) in _INT_FIELDS.items():
        value = payload.get(name)
        if _absent(value):
            if required:
                schema[name] = "is required"
            ints[name] = None
            continue
        ints[name] = _check_int(name, value, schema)

    raw_dates: dict[str, str | None] = {}
    for name in _DATE_FIELDS:
        value = payload.get(name)
        if _absent(value):
            if name == "NgayTiepNhan":
                schema[name] = "is required"
            raw_dates[name] = None
        elif isinstance(value, str):
            raw_dates[name] = value.strip()
        else:
            schema[name] = "must be a string yyyyMMddHHmmss"
            raw_dates[name] = None

    supplements_raw = payload.get("DanhSachHoSoBoSung")
    items = [] if supplements_raw is None else _check_supplements(supplements_raw, schema)
    if schema:
        raise SchemaError("payload does not match the schema", schema)

    meaning: dict[str, str] = {}
    for name, (_required, allowed) in _INT_FIELDS.items():
        number = ints[name]
        if number is not None and number not in allowed:
            meaning[name] = f"must be between {allowed.start} and {allowed.stop - 1}"
    dates = {
        name: _parse_date(name, raw, meaning) if raw else None for name, raw in raw_dates.items()
    }
    supplements = []
    for index, item in enumerate(items):
        parsed = {}
        for key in ("NgayHenTraTruoc", "NgayHenTraMoi"):
            raw = item.get(key)
            where = f"DanhSachHoSoBoSung[{index}].{key}"
            parsed[key] = (
                _parse_date(where, raw.strip(), meaning)
                if isinstance(raw, str) and raw.strip()
                else None
            )
        reason = item.get("LyDo")
        supplements.append(
            Supplement(
                previous_due=parsed["NgayHenTraTruoc"],
                new_due=parsed["NgayHenTraMoi"],
                reason=reason.strip() if isinstance(reason, str) and reason.strip() else None,
            )
        )
    received = dates["NgayTiepNhan"]
    promised = dates["NgayHenTra"]
    if received and promised and promised.date() < received.date():
        meaning["NgayHenTra"] = "is before NgayTiepNhan"
    if not_after is not None:
        timed = raw_dates["ThoiDiemXuLy"] is not None
        for name in _future_fields(dates, timed=timed, not_after=not_after):
            meaning[name] = (
                f"is in the future (after {not_after:%Y%m%d%H%M%S} local time, the server clock "
                "plus the allowed skew)"
            )
    if meaning:
        raise MeaningError("payload holds impossible data", meaning)

    assert received is not None  # required, checked above
    return Dossier(
        case_code=strings["MaHoSo"] or "",
        agency_code=strings["MaCoQuan"] or "",
        agency_name=strings["TenCoQuan"],
        procedure_code=strings["MaTTHC"] or "",
        procedure_name=strings["TenTTHC"] or "",
        status=ints["TrangThaiHoSo"] or 0,
        received_at=received,
        promised_at=promised,
        finished_at=dates["NgayKetThucXuLy"],
        returned_at=dates["NgayTra"],
        processed_at=dates["ThoiDiemXuLy"],
        applicant_name=strings["ChuHoSo"],
        phone=strings["SoDienThoai"],
        email=strings["Email"],
        officer_name=strings["NguoiXuLy"],
        processing_unit=strings["DonViXuLy"],
        field_code=strings["MaLinhVuc"],
        field_name=strings["TenLinhVuc"],
        channel=ints["KenhThucHien"],
        applicant_type=ints["LoaiDoiTuong"],
        supplements=tuple(supplements),
    )
