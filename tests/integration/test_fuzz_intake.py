"""Property tests of `POST /api/v1/onestop/events` against the real app, in process.

Contract (interfaces.md "Intake"): checks run in the order size (413), content type (415),
signature (401), JSON and schema (400), meaning (422); the answer is 200/202 otherwise, and
never a 5xx for anything a client sends. One server is started for the module and reused by
every example (Hypothesis and function-scoped fixtures do not mix), once on SQLite and once on
PostgreSQL (whose json type refuses what SQLite's text keeps, e.g. NaN).
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.config import Settings
from bot.onestop.signature import sign
from storage.db import migrate_async

ENDPOINT = "/api/v1/onestop/events"
SECRET = "fuzz-vendor-secret"
PUBLIC_URL = "https://khaosat.example.gov.vn"
NOW = 1_793_000_000  # the server's clock, fixed: 2026-10-26, after every date in VALID
MAX_BODY = 256 * 1024
ALLOWED = {200, 202, 400, 401, 413, 415, 422}
TOKEN = r"[A-Za-z0-9_-]{22}"

VALID: dict[str, Any] = {
    "MaHoSo": "000.00.01.H56-261005-0001",
    "MaCoQuan": "000.00.01.H56",
    "TenCoQuan": "Sở Tư pháp tỉnh Lâm Đồng",
    "MaTTHC": "1.001234",
    "TenTTHC": "Cấp phiếu lý lịch tư pháp",
    "TrangThaiHoSo": 10,
    "NgayTiepNhan": "20261005083000",
    "NgayHenTra": "20261015170000",
    "NgayKetThucXuLy": "20261014100000",
    "NgayTra": "20261014153000",
    "ThoiDiemXuLy": "20261014153000",
    "ChuHoSo": "Nguyễn Thị Ánh Tuyết",
    "SoDienThoai": "0912 345 678",
    "Email": "tuyet@example.vn",
    "NguoiXuLy": "Trần Quốc Hưng",
    "DonViXuLy": "Phòng Hành chính Tư pháp",
    "MaLinhVuc": "LLTP",
    "TenLinhVuc": "Lý lịch tư pháp",
    "KenhThucHien": 2,
    "LoaiDoiTuong": 1,
    "DanhSachHoSoBoSung": [
        {
            "NgayHenTraTruoc": "20261010170000",
            "NgayHenTraMoi": "20261015170000",
            "LyDo": "Thiếu bản sao căn cước",
        }
    ],
}


# --- the server ----------------------------------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database of each kind for the module, dropped afterwards."""
    if request.param == "sqlite":
        directory: Path = tmp_path_factory.mktemp("fuzz-intake")
        yield f"sqlite+aiosqlite:///{directory / 'sipas.db'}"
        return
    admin_url = str(request.getfixturevalue("pg_admin"))
    name = f"sipas_fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://{admin_url.rsplit('/', 1)[0].split('://', 1)[1]}/{name}"
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def intake_client(database: str) -> AsyncIterator[TestClient]:
    url = database
    await migrate_async(url)
    app_settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        public_url=PUBLIC_URL,
        onestop_secrets=[SECRET],
        secret_key="fuzz-link-key",
        api_token="fuzz-api-token",
        telegram_bot_token="",
        max_clock_skew_seconds=300,
    )
    test_client = TestClient(TestServer(create_app(app_settings, clock=lambda: float(NOW))))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Sipas-Timestamp": str(timestamp),
        "X-Sipas-Signature": sign(secret, timestamp, body),
    }


async def post(
    client: TestClient, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any] | None, ClientResponse]:
    response = await client.post(ENDPOINT, data=body, headers=headers)
    raw = await response.read()
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    return response.status, decoded, response


def assert_answer_shape(status: int, decoded: Any, response: ClientResponse) -> None:
    assert status < 500, decoded
    assert status in ALLOWED, (status, decoded)
    assert response.content_type == "application/json"
    assert isinstance(decoded, dict), decoded
    if status >= 400:
        assert isinstance(decoded.get("error"), str) and decoded["error"], decoded
        if "fields" in decoded:
            assert isinstance(decoded["fields"], dict)
    else:
        assert set(decoded) >= {"MaHoSo", "TrangThaiHoSo", "links"}
        assert isinstance(decoded["TrangThaiHoSo"], int)
        assert 1 <= decoded["TrangThaiHoSo"] <= 10
        links = decoded["links"]
        assert set(links) == {"telegram", "zalo", "web", "qr"}
        assert links["telegram"] is None  # TELEGRAM_BOT_TOKEN is empty
        assert re.fullmatch(re.escape(PUBLIC_URL) + "/s/" + TOKEN, links["web"]), links


# --- strategies ----------------------------------------------------------------------------

# Any character except surrogates (JSON text cannot carry them as raw UTF-8), NUL included.
odd_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
interesting_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "abc\x00",
        "\u200b",
        "\ufeff",
        "\U0001f600",
        "Nguyễn Văn Ánh",
        "20261005083000",
        "20261305083000",
        "2026-10-05",
        "99991231235959",
        "00000000000000",
        "10",
        " 10 ",
        "-1",
        "1e3",
        "NaN",
        "null",
        "0912345678",
        "+84 912 345 678",
        "x" * 65,
        "ữ" * 1001,
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN and ±Infinity included: json.dumps writes them as bare words
    odd_text,
    interesting_text,
)
# Number literals no finite float holds (1e999 decodes to infinity), and near misses that do.
non_finite_literals = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1E+999", "1.5e400"]),
    st.builds(
        lambda sign, mantissa, exponent: f"{sign}{mantissa}e{exponent}",
        st.sampled_from(["", "-"]),
        st.sampled_from(["1", "9.99", "0.1", "123456789"]),
        st.integers(min_value=320, max_value=10**7),
    ),
)
number_literals = st.one_of(
    non_finite_literals,
    st.builds(lambda exponent: f"1e-{exponent}", st.integers(min_value=320, max_value=10**7)),
    st.just("1.7976931348623157e308"),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.one_of(odd_text, st.sampled_from(list(VALID))), children, max_size=6),
    ),
    max_leaves=25,
)


@st.composite
def deep_values(draw: st.DrawFn) -> Any:
    """Lists or objects nested up to a few hundred levels."""
    depth = draw(st.integers(min_value=1, max_value=300))
    value: Any = draw(scalars)
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {"a": value}
    return value


def huge_string(min_size: int = 0) -> st.SearchStrategy[str]:
    return st.builds(
        lambda char, size: char * size,
        st.sampled_from(["a", "ữ", "\x00", "\U0001f600", "0"]),
        st.integers(min_value=min_size, max_value=300_000),
    )


# Values close to valid ones, so that many examples get past the schema to the meaning checks.
near_values = st.one_of(
    st.integers(min_value=-3, max_value=15),
    st.integers(min_value=-3, max_value=15).map(str),
    st.from_regex(r"\A(19|20|99)\d{12}\Z"),
    st.datetimes().map(lambda d: d.strftime("%Y%m%d%H%M%S")),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "NgayHenTraTruoc": st.from_regex(r"\A20\d{12}\Z") | odd_text,
                "NgayHenTraMoi": st.from_regex(r"\A20\d{12}\Z") | odd_text,
                "LyDo": odd_text,
            },
        ),
        max_size=3,
    ),
)
field_values = st.one_of(near_values, near_values, json_values, deep_values(), huge_string())


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """The valid payload with some fields replaced, removed or added."""
    data = dict(VALID)
    data["MaHoSo"] = f"FZ-{draw(st.integers(0, 10**9))}"
    for name in draw(st.lists(st.sampled_from(list(VALID)), min_size=1, max_size=4)):
        if draw(st.integers(0, 4)) == 0:
            data.pop(name, None)
        else:
            data[name] = draw(field_values)
    # Unknown extra fields are allowed; keep them shallow (see the xfail test on depth below).
    data.update(draw(st.dictionaries(odd_text, scalars, max_size=3)))
    return data


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


MARKER = "__number_literal_7f3a__"


@st.composite
def planted(draw: st.DrawFn, value: Any, literals: st.SearchStrategy[str]) -> bytes:
    """`value` encoded with a number literal written in at a random place, nested anywhere."""
    value = copy.deepcopy(value)  # its containers may be shared, VALID's among them
    item: Any = MARKER
    for _ in range(draw(st.integers(0, 3))):
        item = [item] if draw(st.booleans()) else {draw(odd_text): item}
    place = value
    while True:
        children = (
            list(place.values())
            if isinstance(place, dict)
            else place
            if isinstance(place, list)
            else []
        )
        containers = [c for c in children if isinstance(c, dict | list)]
        if not containers or draw(st.integers(0, 2)) == 0:
            break
        place = draw(st.sampled_from(containers))
    if isinstance(place, dict):
        place[draw(st.one_of(st.sampled_from([*VALID, "GhiChu"]), odd_text))] = item
    elif isinstance(place, list):
        place.insert(draw(st.integers(0, len(place))), item)
    else:
        value = item
    return encode(value).replace(f'"{MARKER}"'.encode(), draw(literals).encode())


def has_non_finite_number(body: bytes) -> bool:
    """True if `body` is JSON (as Python reads it) holding NaN, ±Infinity or an overflow."""
    found = False

    def constant(_name: str) -> float:
        nonlocal found
        found = True
        return 0.0

    def number(text: str) -> float:
        nonlocal found
        value = float(text)
        found = found or not math.isfinite(value)
        return value

    try:
        json.loads(body, parse_constant=constant, parse_float=number)
    except (ValueError, RecursionError):
        return False
    return found


raw_bodies = st.one_of(
    st.binary(max_size=2000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200).map(lambda t: t.encode("utf-8")),
    st.builds(lambda depth: b"[" * depth + b"]" * depth, st.integers(1, 100_000)),
    st.builds(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth, st.integers(1, 50_000)),
    st.builds(lambda depth: b"[" * depth, st.integers(1, 10_000)),
)
bodies = st.one_of(
    json_values.map(encode),
    mutated_payloads().map(encode),
    mutated_payloads().map(lambda d: json.dumps(d).encode("ascii")),  # \u escapes
    huge_string(min_size=200_000).map(lambda s: encode({**VALID, "TenTTHC": s})),
    mutated_payloads().flatmap(lambda d: planted(d, number_literals)),
    json_values.flatmap(lambda v: planted(v, number_literals)),
    raw_bodies,
)
content_types = st.sampled_from(
    ["application/json"] * 8
    + ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"]
)
idempotency_headers = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=220),
    st.just("two words"),
)
signing = st.sampled_from(["good"] * 6 + ["none", "wrong-secret", "stale", "no-timestamp"])


def expected_refusal(body: bytes, content_type: str, how: str) -> int | None:
    """The status the contract's check order fixes before validation, if any."""
    if len(body) > MAX_BODY:
        return 413
    if content_type.split(";")[0].strip() != "application/json":
        return 415
    if how != "good":
        return 401
    return None


# --- properties ----------------------------------------------------------------------------


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    body=bodies,
    content_type=content_types,
    how=signing,
    idempotency=idempotency_headers,
)
async def test_any_body_gets_a_contract_answer_never_a_5xx(
    intake_client: TestClient, body: bytes, content_type: str, how: str, idempotency: str | None
) -> None:
    if how == "good":
        headers = signed_headers(body)
    elif how == "wrong-secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif how == "stale":
        headers = signed_headers(body, timestamp=NOW - 301)
    elif how == "no-timestamp":
        headers = signed_headers(body)
        del headers["X-Sipas-Timestamp"]
    else:
        headers = {}
    headers["Content-Type"] = content_type
    if idempotency is not None:
        headers["Idempotency-Key"] = idempotency

    status, decoded, response = await post(intake_client, body, headers)
    event(f"status {status}")

    assert_answer_shape(status, decoded, response)
    first_check = expected_refusal(body, content_type, how)
    if first_check is not None:
        assert status == first_check, (status, decoded)
    elif has_non_finite_number(body):
        assert status == 400, (status, decoded)
    else:
        assert status in {200, 202, 400, 422}, (status, decoded)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=mutated_payloads().flatmap(lambda d: planted(d, non_finite_literals)))
async def test_a_non_finite_number_anywhere_is_refused_as_not_json(
    intake_client: TestClient, body: bytes
) -> None:
    event(f"{len(body) // 1000} kB")
    status, decoded, response = await post(intake_client, body, signed_headers(body))
    assert_answer_shape(status, decoded, response)
    assert status == (413 if len(body) > MAX_BODY else 400), (status, decoded)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(payload=mutated_payloads())
async def test_mutated_valid_payload_is_accepted_or_refused_with_named_fields(
    intake_client: TestClient, payload: dict[str, Any]
) -> None:
    body = encode(payload)
    status, decoded, response = await post(intake_client, body, signed_headers(body))
    event(f"status {status}")
    assert_answer_shape(status, decoded, response)
    if len(body) > MAX_BODY:
        assert status == 413
    elif has_non_finite_number(body):
        assert status == 400, (status, decoded)
    elif status in {400, 422}:
        assert decoded is not None and decoded.get("fields"), decoded
    else:
        assert status in {200, 202}, (status, decoded)
        assert decoded is not None and decoded["MaHoSo"] == payload["MaHoSo"].strip()


# --- fixed cases ---------------------------------------------------------------------------


async def test_very_deeply_nested_list_is_a_400(intake_client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    status, decoded, response = await post(intake_client, body, signed_headers(body))
    assert status == 400, decoded
    assert_answer_shape(status, decoded, response)


async def test_very_deeply_nested_object_is_a_400(intake_client: TestClient) -> None:
    body = b'{"a":' * 40_000 + b"1" + b"}" * 40_000  # 240 KB: under the size limit
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status == 400, decoded


async def test_deeply_nested_value_in_a_required_field_is_a_400(intake_client: TestClient) -> None:
    body = encode({**VALID, "MaHoSo": json.loads("[" * 900 + "]" * 900)})
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status == 400, decoded
    assert decoded is not None and "MaHoSo" in decoded["fields"]


async def test_body_of_300_kib_is_a_413(intake_client: TestClient) -> None:
    body = encode({**VALID, "TenTTHC": "a" * (300 * 1024)})
    status, decoded, response = await post(intake_client, body, signed_headers(body))
    assert status == 413, decoded
    assert_answer_shape(status, decoded, response)


async def test_unsigned_body_of_300_kib_is_still_a_413(intake_client: TestClient) -> None:
    body = b"x" * (300 * 1024)
    status, decoded, _ = await post(intake_client, body, {"Content-Type": "text/plain"})
    assert status == 413, decoded


async def test_body_just_under_the_limit_reaches_validation(intake_client: TestClient) -> None:
    prefix = encode({**VALID, "MaHoSo": f"FZ-LIMIT-{uuid.uuid4().hex[:8]}", "Pad": ""})
    body = prefix[:-2] + b"a" * (MAX_BODY - len(prefix)) + b'"}'
    assert len(body) == MAX_BODY
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status == 202, decoded


@pytest.mark.parametrize("field", ["MaHoSo", "TenTTHC"])
async def test_lone_surrogate_escape_in_a_text_field_is_not_a_5xx(
    intake_client: TestClient, field: str
) -> None:
    data = {**VALID, "MaHoSo": f"FZ-SUR-{uuid.uuid4().hex[:8]}"}
    data[field] = data[field] + "\ud800"
    body = json.dumps(data).encode("ascii")  # valid JSON text: "\ud800" as an escape
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status in {400, 422}, (status, decoded)


async def test_phone_number_in_non_ascii_digits_is_not_a_5xx(intake_client: TestClient) -> None:
    data = {**VALID, "MaHoSo": f"FZ-PHONE-{uuid.uuid4().hex[:8]}", "SoDienThoai": "٠٩١٢٣٤٥٦٧٨"}
    body = encode(data)
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status in {202, 400, 422}, (status, decoded)


@pytest.mark.parametrize("where", ["extra-field", "supplement-item"])
async def test_deep_value_in_an_unknown_field_is_not_a_5xx(
    intake_client: TestClient, where: str
) -> None:
    deep = json.loads("[" * 600 + "]" * 600)  # parses fine: under the JSON decoder's limit
    data = {**VALID, "MaHoSo": f"FZ-DEEP-{uuid.uuid4().hex[:8]}"}
    if where == "extra-field":
        data["GhiChu"] = deep
    else:
        data["DanhSachHoSoBoSung"] = [{**VALID["DanhSachHoSoBoSung"][0], "ChiTiet": deep}]
    body = encode(data)
    status, decoded, _ = await post(intake_client, body, signed_headers(body))
    assert status in {202, 400}, (status, decoded)


# --- after the run -------------------------------------------------------------------------


async def test_service_is_healthy_after_the_fuzzing(intake_client: TestClient) -> None:
    response = await intake_client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_valid_event_is_still_accepted_after_the_fuzzing(intake_client: TestClient) -> None:
    code = f"FZ-AFTER-{uuid.uuid4().hex}"
    body = encode({**VALID, "MaHoSo": code})
    status, decoded, response = await post(intake_client, body, signed_headers(body))
    assert status == 202, decoded
    assert_answer_shape(status, decoded, response)
    assert decoded is not None and decoded["MaHoSo"] == code
    assert decoded["TrangThaiHoSo"] == 10
    # The same delivery again is a repeat: 200, same links.
    again_status, again, _ = await post(intake_client, body, signed_headers(body))
    assert again_status == 200, again
    assert again == decoded
