"""The one text lookup: a key, a language and whether the channel has buttons give one text.

The fallback rule, the only one: an unknown language reads Vietnamese; a key the language's
catalog lacks reads Vietnamese; a key Vietnamese lacks is a bug and raises `MissingText`.
With `buttons=False` a key's `.typed` variant is chosen where one exists, so a channel without
buttons never tells anyone to press one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bot.texts import en, vi

VI: Final = "vi"
EN: Final = "en"
TYPED: Final = ".typed"


class MissingText(KeyError):
    """A key the Vietnamese catalog does not hold: a typo or a text never written."""


@dataclass(frozen=True)
class Catalogs:
    """The catalogs by language; `reference` is the one every key must exist in."""

    by_language: Mapping[str, Mapping[str, str]]
    reference: str = VI

    def template(self, language: str | None, key: str, /, *, buttons: bool = True) -> str:
        """The unfilled text of `key` in `language`, by the one fallback rule."""
        base = self.by_language[self.reference]
        if not buttons and key + TYPED in base:
            key += TYPED
        if key not in base:
            raise MissingText(key)
        catalog = self.by_language.get(language or self.reference, base)
        return catalog.get(key) or base[key]

    def text(
        self, language: str | None, key: str, /, *, buttons: bool = True, **params: object
    ) -> str:
        """The text of `key` in `language` with `params` filled in."""
        template = self.template(language, key, buttons=buttons)
        return template.format(**params) if params else template

    def has(self, key: str) -> bool:
        """Whether `key` exists (in the reference catalog, so in every language)."""
        return key in self.by_language[self.reference]

    def section(self, language: str, namespace: str) -> dict[str, str]:
        """The texts directly under `namespace` in `language`'s own catalog, by short name, in
        catalog order (no `.typed` variants, no deeper namespaces)."""
        prefix = namespace + "."
        return {
            key[len(prefix) :]: value
            for key, value in self.by_language[language].items()
            if key.startswith(prefix) and "." not in key[len(prefix) :]
        }


CATALOGS: Final = Catalogs({VI: vi.CATALOG, EN: en.CATALOG})


def text(language: str | None, key: str, /, *, buttons: object = True, **params: object) -> str:
    """The text of `key` in `language` (Vietnamese when unknown), with `params` filled in; on a
    channel without buttons (`buttons=False`) the variant that asks to type instead.

    `buttons` is read for its truth and typed `object` so that callers may pass `**params` of
    type `dict[str, object]` (mypy would otherwise take them for a possible `buttons`)."""
    return CATALOGS.text(language, key, buttons=bool(buttons), **params)


def has_text(key: str) -> bool:
    """Whether the catalog holds `key`."""
    return CATALOGS.has(key)


def section(language: str, namespace: str) -> dict[str, str]:
    """The texts directly under `namespace` in `language`, by short name."""
    return CATALOGS.section(language, namespace)
