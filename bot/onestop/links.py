"""Survey links printed on the citizen's receipt: keyed tokens, stored only as hashes.

A case's token is HMAC(link key, case code), 132 bits in base64url: unguessable without the
service's key, the same on every repeated delivery (so a vendor can print it again), and short
enough for a Telegram `/start` payload (≤ 64 characters of `A-Za-z0-9_-`).

The keys come from `SIPAS_SECRET_KEY` only (never the database), as a `KeyRing`: a
comma-separated list of `<kid>:<secret>`, the current key first (a bare secret is kid `k0`,
the key of every case linked before key ids existed). A case records the kid of its token and
a phone hash the kid that made it, so rotation keeps old links and phones working:

- rotate: put the new key first and keep the old one after it
  (`SIPAS_SECRET_KEY=k1:<new>,k0:<old>`): new cases get `k1` tokens; a repeated delivery of an
  older case answers with its `k0` token again; phone lookups try every key;
- retire: remove the old key. Links made with it stop working (a removed key may have leaked,
  and anyone holding it could compute them); the next delivery of such a case gives it a new
  link under the current key, and phones hashed with it no longer match until a delivery
  brings the number again.

The link code is the same idea for chats without deep links (Zalo OA, Zalo Bot): eight
characters of `LINK_CODE_ALPHABET` (no I, L, O, 0, 1), HMAC(the case's key, case code) reduced
to 31^8 values (39.6 bits), printed `XXXX-XXXX` and stored only as `link_code_hash`. At this
size two cases may share a code (among a million cases about one pair is expected; a new case
then meets a taken code once in 850 000), so storage keeps collisions (the index is not unique)
and a lookup that finds more than one case refuses the code: it never links the wrong case, and
the two citizens still link by their deep link or their phone. A code follows its case's kid
like the token, so rotation keeps old codes working and retiring a key ends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
LEGACY_KEY_ID = "k0"
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8
_CODE_SPACE = len(LINK_CODE_ALPHABET) ** LINK_CODE_LENGTH
_CODE_CHAR = f"[{LINK_CODE_ALPHABET}{LINK_CODE_ALPHABET.lower()}]"
# Four and four characters, joined by nothing or a dash, alone between non-word characters.
_CODE_RE = re.compile(rf"(?<![\w-])({_CODE_CHAR}{{4}})[-‐‑–—]?({_CODE_CHAR}{{4}})(?![\w-])")
# The same split by one space ("ABCD EFGH"), read only when no closer form is in the text.
_SPACED_CODE_RE = re.compile(rf"(?<![\w-])({_CODE_CHAR}{{4}}) ({_CODE_CHAR}{{4}})(?![\w-])")


def case_token(key: bytes, case_code: str) -> str:
    mac = hmac.digest(key, b"case-link:" + case_code.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(mac[:17]).decode("ascii").rstrip("=")[:22]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def case_link_code(key: bytes, case_code: str) -> str:
    """The case's eight-character link code (no dash) under `key`."""
    mac = hmac.digest(key, b"case-code:" + case_code.encode("utf-8"), "sha256")
    # 64 bits reduced to 31^8 codes: the bias is below one in two million.
    number = int.from_bytes(mac[:8], "big") % _CODE_SPACE
    chars = []
    for _ in range(LINK_CODE_LENGTH):
        number, digit = divmod(number, len(LINK_CODE_ALPHABET))
        chars.append(LINK_CODE_ALPHABET[digit])
    return "".join(chars)


def link_code_hash(code: str) -> str:
    """What is stored of a link code (given without its dash, in capitals)."""
    return hashlib.sha256(b"link-code:" + code.encode("ascii")).hexdigest()


def format_link_code(code: str) -> str:
    """`ABCDEFGH` → `ABCD-EFGH`, as the receipt prints it."""
    return f"{code[:4]}-{code[4:]}"


def extract_link_code(text: str) -> str | None:
    """The one link code in a citizen's message, canonical (capitals, no dash), or None.

    Takes "ABCD-EFGH", "abcdefgh", "mã ABCD-EFGH ạ", "ABCD EFGH"; a message holding two
    different codes is none (it is not for this function to guess which one was meant).
    """
    found = {(a + b).upper() for a, b in _CODE_RE.findall(text)}
    if not found:
        found = {(a + b).upper() for a, b in _SPACED_CODE_RE.findall(text)}
    return found.pop() if len(found) == 1 else None


def _national_digits(phone: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", phone)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits if len(digits) >= 8 else None


def phone_hash(key: bytes, phone: str) -> str | None:
    """Keyed hash of a Vietnamese phone number in its national form (0xxxxxxxxx)."""
    digits = _national_digits(phone)
    if digits is None:
        return None
    return hmac.digest(key, b"phone:" + digits.encode("ascii"), "sha256").hex()


def web_link(public_url: str, token: str) -> str:
    return f"{public_url}/s/{token}"


class KeyRingError(ValueError):
    """`SIPAS_SECRET_KEY` is not a list of `<kid>:<secret>` (or one bare secret)."""


class NoSecretKey(LookupError):
    """A token or hash was asked of a key ring without keys."""


@dataclass(frozen=True, slots=True)
class PhoneHash:
    key_id: str
    value: str


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The configured link keys by kid, the current one first."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """`k1:<new>,k0:<old>` (or a bare secret, kid `k0`); empty text is an empty ring."""
        keys: list[tuple[str, bytes]] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            kid, sep, secret = entry.partition(":")
            if not sep:
                kid, secret = LEGACY_KEY_ID, entry
            elif not KEY_ID_RE.match(kid):
                raise KeyRingError(
                    "SIPAS_SECRET_KEY: a key id is 1–16 characters of A-Za-z0-9_- "
                    "(entries are <kid>:<secret>, comma-separated)"
                )
            if not secret:
                raise KeyRingError(f"SIPAS_SECRET_KEY: key {kid} has an empty secret")
            if any(kid == known for known, _ in keys):
                raise KeyRingError(f"SIPAS_SECRET_KEY: key id {kid} appears twice")
            keys.append((kid, secret.encode("utf-8")))
        return cls(tuple(keys))

    @classmethod
    def single(cls, secret: bytes, key_id: str = LEGACY_KEY_ID) -> KeyRing:
        return cls(((key_id, secret),))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def __contains__(self, key_id: object) -> bool:
        return any(kid == key_id for kid, _ in self.keys)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    @property
    def current_id(self) -> str:
        if not self.keys:
            raise NoSecretKey("SIPAS_SECRET_KEY is not set")
        return self.keys[0][0]

    def secret(self, key_id: str) -> bytes:
        for kid, secret in self.keys:
            if kid == key_id:
                return secret
        raise NoSecretKey(f"key {key_id} is not in SIPAS_SECRET_KEY")

    def holds(self, secret: str) -> bool:
        """Whether one of the keys is `secret` (constant time per key)."""
        wanted = secret.encode("utf-8")
        found = False
        for _, value in self.keys:
            found |= hmac.compare_digest(value, wanted)
        return found

    def token(self, case_code: str, key_id: str | None = None) -> str:
        """The case's link token under `key_id` (default: the current key)."""
        return case_token(self.secret(key_id or self.current_id), case_code)

    def link_code(self, case_code: str, key_id: str | None = None) -> str:
        """The case's link code under `key_id` (default: the current key)."""
        return case_link_code(self.secret(key_id or self.current_id), case_code)

    def phone_hash(self, phone: str) -> PhoneHash | None:
        """The phone's hash under the current key (what is stored), with its kid."""
        kid = self.current_id
        value = phone_hash(self.secret(kid), phone)
        return None if value is None else PhoneHash(kid, value)

    def phone_hashes(self, phone: str) -> list[str]:
        """The phone's hash under every configured key (what a lookup matches)."""
        if _national_digits(phone) is None:
            return []
        return [value for _, key in self.keys if (value := phone_hash(key, phone)) is not None]

    def entries(self) -> list[str]:
        """The ring as `SIPAS_SECRET_KEY` entries (`<kid>:<secret>`)."""
        return [f"{kid}:{secret.decode('utf-8')}" for kid, secret in self.keys]
