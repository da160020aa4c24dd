"""The `X-ZEvent-Signature` of a Zalo OA webhook event.

Zalo signs each event with `mac=` + the SHA-256 hex of the app id, the raw body, the body's
`timestamp` field and the OA secret key, concatenated. `verify` compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-ZEvent-Signature"
PREFIX = "mac="


def mac(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    """The signature Zalo sends with this body."""
    digest = hashlib.sha256(
        app_id.encode("utf-8") + raw_body + timestamp.encode("utf-8") + secret_key.encode("utf-8")
    )
    return PREFIX + digest.hexdigest()


def verify(
    header: str | None, *, app_id: str, raw_body: bytes, timestamp: str, secret_key: str
) -> bool:
    """Whether `header` is the body's signature (False when absent or when no key is set)."""
    if not header or not secret_key:
        return False
    expected = mac(app_id, raw_body, timestamp, secret_key)
    given = header.strip()
    # The hex digits may come in either case; the prefix is fixed.
    if given[: len(PREFIX)].lower() == PREFIX:
        given = PREFIX + given[len(PREFIX) :].lower()
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
