"""HMAC signatures on intake deliveries (interfaces.md "Intake from one-stop systems")."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.onestop.signature import SignatureError, sign, verify

NOW = 1_790_000_000
BODY = b'{"MaHoSo": "HS-001", "TenTTHC": "C\xe1\xba\xa5p gi\xe1\xba\xa5y ph\xc3\xa9p"}'
SECRET = "vendor-secret-2026"


def check(
    *,
    secrets: list[str] | None = None,
    timestamp: str | None = str(NOW),
    signature: str | None = None,
    body: bytes = BODY,
    now: float = NOW,
) -> None:
    if signature is None and timestamp is not None:
        signature = sign(SECRET, timestamp, body)
    verify(
        secrets=[SECRET] if secrets is None else secrets,
        timestamp=timestamp,
        signature=signature,
        body=body,
        now=now,
    )


def refusal(**kwargs: object) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        check(**kwargs)  # type: ignore[arg-type]
    return caught.value


def test_sign_matches_the_documented_formula() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == "sha256=" + expected
    assert sign(SECRET, str(NOW), BODY) == "sha256=" + expected


def test_good_signature_is_accepted() -> None:
    check()


def test_wrong_secret_is_refused() -> None:
    error = refusal(signature=sign("someone-else", NOW, BODY))
    assert error.reason == "mismatch"


def test_garbage_signature_is_refused() -> None:
    assert refusal(signature="sha256=" + "0" * 64).reason == "mismatch"
    assert refusal(signature="not a signature at all").reason == "mismatch"
    # Right hex without the prefix is not the documented header value.
    bare = sign(SECRET, NOW, BODY).removeprefix("sha256=")
    assert refusal(signature=bare).reason == "mismatch"


def test_non_ascii_signature_is_refused_not_crashing() -> None:
    assert refusal(signature="sha256=ữ" + "a" * 63).reason == "mismatch"


@pytest.mark.parametrize("timestamp", [None, ""])
def test_missing_timestamp_is_refused(timestamp: str | None) -> None:
    error = refusal(timestamp=timestamp, signature=sign(SECRET, NOW, BODY))
    assert error.reason == "missing"
    assert "X-Sipas-Timestamp" in error.message


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(secrets=[SECRET], timestamp=str(NOW), signature=signature, body=BODY, now=NOW)
    assert caught.value.reason == "missing"
    assert "X-Sipas-Signature" in caught.value.message


@pytest.mark.parametrize("offset", [301, -301, 3600, -3600, NOW])
def test_stale_timestamp_is_refused_even_with_a_valid_signature(offset: int) -> None:
    sent = str(NOW - offset)
    error = refusal(timestamp=sent, signature=sign(SECRET, sent, BODY))
    assert error.reason == "stale"


@pytest.mark.parametrize("offset", [300, -300, 0, 299, -299])
def test_timestamp_within_300_seconds_is_accepted(offset: int) -> None:
    sent = str(NOW - offset)
    check(timestamp=sent, signature=sign(SECRET, sent, BODY))


@pytest.mark.parametrize("timestamp", ["abc", "1790000000.5", "1.79e9", "now", "0x6A"])
def test_non_numeric_timestamp_is_refused(timestamp: str) -> None:
    error = refusal(timestamp=timestamp, signature=sign(SECRET, timestamp, BODY))
    assert error.reason == "bad_timestamp"


def test_timestamp_is_part_of_what_is_signed() -> None:
    # A signature made for another moment does not vouch for this timestamp.
    error = refusal(timestamp=str(NOW), signature=sign(SECRET, NOW - 10, BODY))
    assert error.reason == "mismatch"


@pytest.mark.parametrize("used", ["new-secret", "old-secret"])
def test_either_of_two_rotating_secrets_is_accepted(used: str) -> None:
    check(secrets=["new-secret", "old-secret"], signature=sign(used, NOW, BODY))


def test_a_secret_removed_after_rotation_is_refused() -> None:
    error = refusal(secrets=["new-secret"], signature=sign("old-secret", NOW, BODY))
    assert error.reason == "mismatch"


@pytest.mark.parametrize(
    "transform",
    [
        str.upper,
        lambda s: "sha256=" + s.removeprefix("sha256=").upper(),
        lambda s: "  " + s + "  ",
        lambda s: "\t" + s.upper() + "\n",
    ],
    ids=["all-upper", "upper-hex", "spaces", "tabs-upper"],
)
def test_signature_hex_case_and_surrounding_whitespace_do_not_matter(transform) -> None:
    check(signature=transform(sign(SECRET, NOW, BODY)))


def test_timestamp_surrounding_whitespace_is_tolerated() -> None:
    check(timestamp=f" {NOW} ", signature=sign(SECRET, NOW, BODY))


def test_no_secret_configured_refuses_everything() -> None:
    error = refusal(secrets=[], signature=sign(SECRET, NOW, BODY))
    assert error.reason == "not_configured"


def test_no_secret_configured_is_reported_before_missing_headers() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(secrets=[], timestamp=None, signature=None, body=BODY, now=NOW)
    assert caught.value.reason == "not_configured"


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"HS-001", b"HS-002"),
        BODY + b" ",
        BODY[:-1],
        b"",
    ],
    ids=["changed-value", "trailing-space", "truncated", "empty"],
)
def test_tampered_body_is_detected(tampered: bytes) -> None:
    error = refusal(body=tampered, signature=sign(SECRET, NOW, BODY))
    assert error.reason == "mismatch"
