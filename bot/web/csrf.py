"""The web survey form's CSRF field: bound to the link token, computed, never stored.

The field is HMAC-SHA256 of the token under a key derived from `SIPAS_SECRET_KEY` (each key
of the ring gives its own, so a form rendered before a key rotation still posts), truncated to
128 bits in base64url. Only someone who was served the page for that token can send it back.
"""

from __future__ import annotations

import base64
import hmac

from bot.onestop.links import KeyRing

FIELD = "csrf"
_PURPOSE = b"web-survey-csrf"
_MAX_LENGTH = 64


def _value(secret: bytes, token: str) -> str:
    key = hmac.digest(secret, _PURPOSE, "sha256")
    mac = hmac.digest(key, token.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(mac[:16]).decode("ascii").rstrip("=")


def csrf_value(keys: KeyRing, token: str) -> str:
    """The value the form for `token` carries (made with the current key)."""
    return _value(keys.secret(keys.current_id), token)


def csrf_valid(keys: KeyRing, token: str, given: str | None) -> bool:
    """Whether `given` is the form field for `token` under any configured key."""
    if not given or len(given) > _MAX_LENGTH or not given.isascii():
        return False
    found = False
    for _kid, secret in keys.keys:
        found |= hmac.compare_digest(_value(secret, token).encode(), given.encode())
    return found
