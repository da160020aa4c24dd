"""Survey link tokens and phone hashes (bot/onestop/links.py); the channels' deep links."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.links import ChannelLinks, Link
from bot.onestop.links import (
    LINK_CODE_ALPHABET,
    KeyRing,
    NoSecretKey,
    PhoneHash,
    case_link_code,
    case_token,
    extract_link_code,
    format_link_code,
    phone_hash,
    token_hash,
    web_link,
)
from bot.telegram.links import TelegramLinks, deep_link

KEY = b"link-key-for-tests"
OTHER_KEY = b"another-service-key"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


@pytest.mark.parametrize(
    "case_code",
    ["HS-1", "000.00.01.H56-261005-0001", "hồ sơ có dấu", "x" * 64, "?&=/ +#%"],
)
def test_token_is_22_url_safe_characters(case_code: str) -> None:
    assert TOKEN.match(case_token(KEY, case_code))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=64))
def test_token_is_always_22_url_safe_characters(case_code: str) -> None:
    token = case_token(KEY, case_code)
    assert TOKEN.match(token)
    # Short enough for a Telegram /start payload (at most 64 characters of A-Za-z0-9_-).
    assert len(token) <= 64


def test_token_is_the_same_on_every_delivery() -> None:
    assert case_token(KEY, "HS-1") == case_token(KEY, "HS-1")


def test_token_differs_per_case() -> None:
    tokens = {case_token(KEY, f"HS-{n}") for n in range(500)}
    assert len(tokens) == 500


def test_token_differs_per_key() -> None:
    assert case_token(KEY, "HS-1") != case_token(OTHER_KEY, "HS-1")


def test_token_is_not_the_case_code() -> None:
    assert "HS-1" not in case_token(KEY, "HS-1")


def test_token_hash_is_sha256_hex_of_the_token() -> None:
    token = case_token(KEY, "HS-1")
    digest = token_hash(token)
    assert digest == hashlib.sha256(token.encode("ascii")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token_hash(case_token(KEY, "HS-2")) != digest


@pytest.mark.parametrize(
    "written",
    [
        "0912345678",
        "+84912345678",
        "84912345678",
        "+84 912 345 678",
        "(+84) 91-234-5678",
        "0912.345.678",
        " 0912 345 678 ",
        "84-912-345-678",
    ],
)
def test_phone_hash_normalises_the_ways_a_number_is_written(written: str) -> None:
    assert phone_hash(KEY, written) == phone_hash(KEY, "0912345678")


def test_phone_hash_is_a_keyed_hex_digest() -> None:
    digest = phone_hash(KEY, "0912345678")
    assert digest is not None
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert "0912345678" not in digest
    assert digest != hashlib.sha256(b"0912345678").hexdigest()


def test_phone_hash_differs_per_key() -> None:
    assert phone_hash(KEY, "0912345678") != phone_hash(OTHER_KEY, "0912345678")


def test_phone_hash_differs_per_number() -> None:
    assert phone_hash(KEY, "0912345678") != phone_hash(KEY, "0912345679")


@pytest.mark.parametrize("written", ["", "123", "1234567", "+84 12", "không có", "---"])
def test_phone_hash_of_a_too_short_number_is_none(written: str) -> None:
    assert phone_hash(KEY, written) is None


def test_landline_of_eight_digits_is_hashed() -> None:
    assert phone_hash(KEY, "38234567") is not None


@pytest.mark.parametrize("written", ["٠٩١٢٣٤٥٦٧٨", "０９１２３４５６７８", "0912 ３４５ 678"])
def test_phone_hash_of_non_ascii_digits_does_not_crash(written: str) -> None:
    # Arabic-Indic or full-width digits: either normalised like ASCII digits or refused
    # with None — never an exception (it turns a delivery into a 500).
    result = phone_hash(KEY, written)
    assert result is None or result == phone_hash(KEY, "0912345678")


def test_links_are_built_from_the_token() -> None:
    token = case_token(KEY, "HS-1")
    assert deep_link("sipas_bot", token) == f"https://t.me/sipas_bot?start={token}"
    assert web_link("https://khaosat.example.gov.vn", token) == (
        f"https://khaosat.example.gov.vn/s/{token}"
    )


def test_telegram_links_are_drafts_until_the_bot_knows_its_username() -> None:
    links = TelegramLinks()
    assert links("i123") == Link("https://t.me/<bot>?start=i123", ready=False)
    links.know("sipas_bot")
    assert links("i123") == Link("https://t.me/sipas_bot?start=i123", ready=True)
    assert deep_link(None, "i123") == "https://t.me/<bot>?start=i123"


def test_channel_links_give_ready_urls_and_drafts_by_channel() -> None:
    telegram = TelegramLinks()
    links = ChannelLinks({"telegram": telegram})
    assert list(links) == ["telegram"]
    assert links.url("telegram", "tok") is None  # a draft is never printed on a receipt
    assert links.draft("telegram", "tok") == Link("https://t.me/<bot>?start=tok", ready=False)
    assert links.url("zalo_oa", "tok") is None and links.draft("zalo_oa", "tok") is None
    telegram.know("sipas_bot")
    assert links.url("telegram", "tok") == "https://t.me/sipas_bot?start=tok"
    assert links.drafts("tok") == [Link("https://t.me/sipas_bot?start=tok")]
    assert ChannelLinks().drafts("tok") == []


def test_a_bare_key_makes_the_tokens_and_hashes_made_before_key_ids() -> None:
    ring = KeyRing.parse(KEY.decode())
    assert ring.ids == ("k0",)
    assert ring.token("HS-1") == case_token(KEY, "HS-1")
    hashed = ring.phone_hash("0912345678")
    assert hashed == PhoneHash("k0", str(phone_hash(KEY, "0912345678")))


def test_the_first_key_is_current_and_every_key_is_tried_for_phones() -> None:
    ring = KeyRing.parse(f"k1:{OTHER_KEY.decode()},k0:{KEY.decode()}")
    assert ring.current_id == "k1"
    assert ring.token("HS-1") == case_token(OTHER_KEY, "HS-1")
    assert ring.token("HS-1", "k0") == case_token(KEY, "HS-1")
    assert ring.phone_hashes("+84 912 345 678") == [
        phone_hash(OTHER_KEY, "0912345678"),
        phone_hash(KEY, "0912345678"),
    ]
    assert ring.phone_hashes("123") == []
    assert "k0" in ring and "k9" not in ring
    assert ring.holds(KEY.decode()) and not ring.holds("something else")
    assert KeyRing.parse(",".join(ring.entries())) == ring


def test_an_empty_ring_makes_no_token() -> None:
    ring = KeyRing.parse("")
    assert not ring
    with pytest.raises(NoSecretKey):
        ring.token("HS-1")
    with pytest.raises(NoSecretKey):
        KeyRing.parse("k1:x").token("HS-1", "k0")


# --- link codes ----------------------------------------------------------------------------


def test_link_code_shape_and_stability() -> None:
    code = case_link_code(b"key", "H12.22-261001-0001")
    assert len(code) == 8 and set(code) <= set(LINK_CODE_ALPHABET)
    assert case_link_code(b"key", "H12.22-261001-0001") == code
    assert case_link_code(b"other", "H12.22-261001-0001") != code
    assert case_link_code(b"key", "H12.22-261001-0002") != code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABCD-EFGH", "ABCDEFGH"),
        ("abcdefgh", "ABCDEFGH"),
        ("mã ABCD-EFGH", "ABCDEFGH"),
        ("Mã hồ sơ: abcd–efgh ạ", "ABCDEFGH"),
        ("ma ABCD EFGH", "ABCDEFGH"),
        ("(ABCD-EFGH).", "ABCDEFGH"),
        ("ABCD-EFGH ABCDEFGH", "ABCDEFGH"),  # the same code twice
        ("ABCD-EFGH và HJKM-NPQR", None),  # two codes: not guessed
        ("ABCD-EFGH-JKMN", None),  # part of a longer token
        ("ABCDEFGHJ", None),
        ("ABCD-EFG", None),
        ("ABCD-EFGI", None),  # I is not in the alphabet
        ("XYZ0-1234", None),
        ("xin chào, tôi muốn đánh giá", None),
        ("mãABCD-EFGH", None),  # glued to a word
        ("", None),
    ],
)
def test_extract_link_code(text: str, expected: str | None) -> None:
    assert extract_link_code(text) == expected


def test_format_link_code_and_key_ring() -> None:
    ring = KeyRing.parse("k1:new,k0:old")
    assert ring.link_code("C") == case_link_code(b"new", "C")
    assert ring.link_code("C", "k0") == case_link_code(b"old", "C")
    assert format_link_code("ABCDEFGH") == "ABCD-EFGH"
