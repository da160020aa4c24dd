"""Sealing what must stay secret at rest: the Zalo OA token pair, a phone number inside a
stored platform event.

AES-256-GCM under a key derived (HKDF-SHA256) from the current `SIPAS_SECRET_KEY` entry and
the purpose, so the database alone never reveals them and a sealed value of one purpose cannot
be passed off as another's. A sealed text is `<kid>.<nonce+ciphertext, urlsafe base64>`;
values sealed under an older key of the ring still open after a rotation.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.onestop.links import KeyRing

NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value cannot be opened (unknown key id, altered, or another purpose's)."""


class Sealer:
    """Seals and opens texts for one purpose (e.g. `"zalo-oa-tokens"`)."""

    def __init__(self, ring: KeyRing, purpose: str) -> None:
        self._ring = ring
        self._purpose = purpose.encode("utf-8")
        self._keys: dict[str, AESGCM] = {}

    def _aead(self, key_id: str) -> AESGCM:
        found = self._keys.get(key_id)
        if found is None:
            if key_id not in self._ring:
                raise SealError(f"no key {key_id!r} in SIPAS_SECRET_KEY")
            derived = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"sipas-seal:" + self._purpose
            ).derive(self._ring.secret(key_id))
            found = self._keys[key_id] = AESGCM(derived)
        return found

    @property
    def key_id(self) -> str:
        return self._ring.current_id

    def seal(self, text: str) -> str:
        key_id = self._ring.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead(key_id).encrypt(nonce, text.encode("utf-8"), self._purpose)
        return f"{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, sealed: str) -> str:
        key_id, sep, body = sealed.partition(".")
        if not sep:
            raise SealError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead(key_id).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._purpose)
        except (InvalidTag, ValueError) as exc:
            raise SealError("the sealed value was altered or belongs elsewhere") from exc
        return plain.decode("utf-8")
