"""HMAC signatures of intake deliveries (interfaces.md "Intake from one-stop systems").

`X-Sipas-Signature: sha256=<hex of HMAC-SHA256(secret, "{timestamp}.{raw body}")>`, with
`X-Sipas-Timestamp` in Unix seconds no further than the allowed skew from the server clock.
Several secrets may be valid at once so a vendor can rotate without downtime.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

PREFIX = "sha256="


class SignatureError(Exception):
    """The delivery is not signed by a known secret; `reason` is a metrics label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Return the header value a sender puts in `X-Sipas-Signature`."""
    # hmac.digest is OpenSSL's one-shot HMAC: several times faster than hmac.new for one message.
    mac = hmac.digest(secret.encode("utf-8"), f"{timestamp}.".encode() + body, "sha256")
    return PREFIX + mac.hex()


def verify(
    *,
    secrets: Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    max_skew: int = 300,
) -> None:
    """Raise `SignatureError` unless `signature` is valid for one of `secrets` and fresh."""
    if not secrets:
        raise SignatureError("not_configured", "intake is not configured: no signing secret")
    if not timestamp or not signature:
        missing = "X-Sipas-Timestamp" if not timestamp else "X-Sipas-Signature"
        raise SignatureError("missing", f"header {missing} is missing")
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise SignatureError("bad_timestamp", "X-Sipas-Timestamp must be Unix seconds") from None
    if abs(now - sent_at) > max_skew:
        raise SignatureError(
            "stale", f"X-Sipas-Timestamp is more than {max_skew} s away from the server clock"
        )
    given = signature.strip().lower().encode("ascii", "replace")
    # Compare against every secret, whatever matched, so timing reveals nothing.
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp.strip(), body).encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise SignatureError("mismatch", "X-Sipas-Signature does not match the body")
