"""The applicant's phone number, kept sealed while ZNS may still need it.

ZNS sends templates to a phone number in `84…` form, so the number itself (not only its keyed
hash, bot/onestop/links.py) must be kept, but never in clear at rest: intake seals it with
AES-256-GCM (`bot.sealing.Sealer`, purpose `"contact-phone"`) under SIPAS_CONTACT_KEY, a key
ring of `<kid>:<secret>` entries kept outside the database. A sealed value names its kid, so a
rotation (a new key first, the old one after it) keeps older values opening while new ones use
the new key; a key removed from the ring makes its values unreadable (they are treated as
absent). Without a key only the hash is kept and ZNS cannot reach anyone by phone.

`ContactBook.phone` is the one way back to the clear number, meant for the ZNS sender only:
the number goes into the request to Zalo and nowhere else (no log, outbox payload or metric).
"""

from __future__ import annotations

import logging
import re

from bot.onestop.links import KeyRing
from bot.sealing import Sealer, SealError
from storage.contacts import ContactStore

log = logging.getLogger(__name__)
PURPOSE = "contact-phone"
_NON_DIGITS = re.compile(r"[^0-9]")


def zns_phone(phone: str) -> str | None:
    """A Vietnamese number as ZNS takes it: `0912 345 678`, `+84 912 345 678`, `84912345678`
    → `84912345678`; None for what is not a national number (9–10 digits after the 0)."""
    digits = _NON_DIGITS.sub("", phone)
    if digits.startswith("84") and len(digits) >= 11:
        rest = digits[2:]  # "+84 912…", or "+84 0912…" with the trunk 0 kept
        digits = rest if rest.startswith("0") else "0" + rest
    if digits.startswith("00") or not digits.startswith("0") or not 10 <= len(digits) <= 11:
        return None
    return "84" + digits[1:]


class ContactBook:
    """Seals applicants' numbers for storage and opens a case's number for the ZNS sender."""

    def __init__(self, ring: KeyRing, store: ContactStore | None = None) -> None:
        self._ring = ring
        self._sealer = Sealer(ring, PURPOSE) if ring else None
        self._store = store

    @property
    def enabled(self) -> bool:
        """Whether numbers are kept at all (SIPAS_CONTACT_KEY is set)."""
        return self._sealer is not None

    def seal(self, phone: str) -> str | None:
        """The number in `84…` form, sealed under the current key; None without a key or for
        what is not a Vietnamese number."""
        if self._sealer is None:
            return None
        normalised = zns_phone(phone)
        return None if normalised is None else self._sealer.seal(normalised)

    def open(self, sealed: str) -> str | None:
        """The `84…` number inside `sealed`; None when it cannot be opened (no key, a retired
        kid, an altered value). Logs the reason, never the value."""
        if self._sealer is None:
            return None
        try:
            return self._sealer.open(sealed)
        except SealError:
            kid = sealed.partition(".")[0]
            known = kid in self._ring
            log.warning(
                "a stored phone number cannot be opened",
                extra={
                    "key_id": kid if known else "unknown",
                    "reason": "altered or sealed elsewhere"
                    if known
                    else "its key is no longer in SIPAS_CONTACT_KEY",
                },
            )
            return None

    async def phone(self, case_code: str) -> str | None:
        """The case's number in clear (`84…`) for the ZNS sender, or None when none is kept."""
        if self._store is None or self._sealer is None:
            return None
        sealed = await self._store.phone_of(case_code)
        return None if sealed is None else self.open(sealed)


__all__ = ["PURPOSE", "ContactBook", "zns_phone"]
