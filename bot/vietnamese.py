"""Vietnamese text folded for matching what people type: no case, diacritics or extra spaces.

Citizens and admins type without diacritics as often as with them ("rat hai long",
"bat buoc"), so words are compared folded.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, drop diacritics and đ, squeeze spaces: "Rất  hài lòng" → "rat hai long"."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(plain.split())


__all__ = ["fold"]
