"""Survey links printed on the citizen's receipt: keyed tokens, stored only as hashes.

A case's token is HMAC(link key, case code), 132 bits in base64url: unguessable without the
service's key, the same on every repeated delivery (so a vendor can print it again), and short
enough for a Telegram `/start` payload (≤ 64 characters of `A-Za-z0-9_-`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def case_token(key: bytes, case_code: str) -> str:
    mac = hmac.digest(key, b"case-link:" + case_code.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(mac[:17]).decode("ascii").rstrip("=")[:22]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def phone_hash(key: bytes, phone: str) -> str | None:
    """Keyed hash of a Vietnamese phone number in its national form (0xxxxxxxxx)."""
    digits = re.sub(r"[^0-9]", "", phone)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    if len(digits) < 8:
        return None
    return hmac.digest(key, b"phone:" + digits.encode("ascii"), "sha256").hex()


def telegram_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def web_link(public_url: str, token: str) -> str:
    return f"{public_url}/s/{token}"
