"""Delivery identity: the vendor's Idempotency-Key, else the SHA-256 of the raw body."""

from __future__ import annotations

import hashlib

import pytest

from bot.onestop.dossier import SchemaError
from bot.onestop.intake import body_digest, idempotency_key

BODY = b'{"MaHoSo": "HS-1", "TrangThaiHoSo": 2}'


def test_header_is_the_key_when_present() -> None:
    assert idempotency_key("delivery-42", BODY) == idempotency_key("delivery-42", b"other body")


def test_header_is_stripped() -> None:
    assert idempotency_key("  delivery-42\t", BODY) == idempotency_key("delivery-42", BODY)


def test_different_headers_are_different_deliveries() -> None:
    assert idempotency_key("delivery-42", BODY) != idempotency_key("delivery-43", BODY)


def test_without_header_the_key_is_the_body_hash() -> None:
    key = idempotency_key(None, BODY)
    assert hashlib.sha256(BODY).hexdigest() in key
    assert key == idempotency_key(None, BODY)
    assert key != idempotency_key(None, BODY + b" ")


def test_a_header_equal_to_the_body_hash_is_not_confused_with_it() -> None:
    digest = hashlib.sha256(BODY).hexdigest()
    assert idempotency_key(digest, b"another body") != idempotency_key(None, BODY)


@pytest.mark.parametrize(
    "key",
    ["a", "A" * 200, "2026-10-05T08:30:00Z/HS-1#3", "~!@#$%^&*()_+{}|:<>?"],
)
def test_printable_ascii_keys_up_to_200_characters_are_accepted(key: str) -> None:
    assert key in idempotency_key(key, BODY)


@pytest.mark.parametrize(
    "header",
    ["", "   ", "A" * 201, "khóa-1", "key\u00a0x", "two words", "tab\there", "nul\x00", "\x7f"],
    ids=["empty", "blank", "too-long", "non-ascii", "nbsp", "space", "tab", "nul", "del"],
)
def test_invalid_header_is_a_schema_error_naming_it(header: str) -> None:
    with pytest.raises(SchemaError) as caught:
        idempotency_key(header, BODY)
    assert caught.value.http_status == 400
    assert set(caught.value.fields) == {"Idempotency-Key"}


def test_the_body_digest_is_the_hex_sha256_of_the_raw_body() -> None:
    assert body_digest(BODY) == hashlib.sha256(BODY).hexdigest()
    assert body_digest(BODY) != body_digest(BODY + b" ")


def test_a_digest_given_by_the_caller_makes_the_same_key() -> None:
    assert idempotency_key(None, BODY, digest=body_digest(BODY)) == idempotency_key(None, BODY)
    # A vendor's key wins over the body's hash.
    assert idempotency_key("evt-1", BODY, digest=body_digest(BODY)) == "key:evt-1"
