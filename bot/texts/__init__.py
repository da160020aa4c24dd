"""Everything a citizen, head or admin reads: Vietnamese first, English second.

One catalog per language (`bot/texts/vi.py`, `bot/texts/en.py`), keyed `<namespace>.<name>`,
and one lookup, `text(language, key, buttons=..., **params)` in `bot/texts/catalog.py`, with one
fallback rule (unknown language → Vietnamese; a key missing in English → Vietnamese; a key
missing in Vietnamese → `MissingText`). A key with a `.typed` variant has a wording for channels
without buttons, picked with `buttons=False`.

Namespaces: `chat` (citizens), `head` (alerts and roles), `admin`, `report` (heads' commands),
`editor` (questionnaire editor), `factor`, `button`, `likert` (`likert.1` … `likert.5`),
`case_status` (`case_status.1` … `case_status.10`), `timeliness`, `case_page` (the web page).

The tables and helpers below are read-only views of the catalogs for the modules that import
them; they add no text of their own.
"""

from __future__ import annotations

from typing import Final

from bot.texts.catalog import (
    CATALOGS,
    EN,
    TYPED,
    VI,
    Catalogs,
    MissingText,
    has_text,
    section,
    text,
)

LANGUAGES: Final = (VI, EN)


def _views(namespace: str) -> dict[str, dict[str, str]]:
    return {language: section(language, namespace) for language in LANGUAGES}


def _numbered(namespace: str) -> dict[str, dict[int, str]]:
    return {
        language: dict(sorted((int(k), v) for k, v in section(language, namespace).items()))
        for language in LANGUAGES
    }


CASE_STATUS: Final[dict[str, dict[int, str]]] = _numbered("case_status")
TIMELINESS: Final[dict[str, dict[str, str]]] = _views("timeliness")
CASE_PAGE: Final[dict[str, dict[str, str]]] = _views("case_page")
# Five levels, in order; each button's text contains the contract's label.
LIKERT: Final[dict[str, tuple[str, ...]]] = {
    language: tuple(levels.values()) for language, levels in _numbered("likert").items()
}
LIKERT_VI_LABELS: Final = LIKERT[VI]
BUTTONS: Final[dict[str, dict[str, str]]] = _views("button")
CHAT: Final[dict[str, dict[str, str]]] = _views("chat")
HEAD: Final[dict[str, dict[str, str]]] = _views("head")


def chat_text(language: str, key: str, /, *, buttons: object = True, **params: object) -> str:
    """A chat message in `language` (Vietnamese when unknown), with `params` filled in."""
    return text(language, f"chat.{key}", buttons=buttons, **params)


def head_text(language: str, key: str, /, *, buttons: object = True, **params: object) -> str:
    """An alert, digest or role message for a head, inspector or new admin."""
    return text(language, f"head.{key}", buttons=buttons, **params)


__all__ = [
    "BUTTONS",
    "CASE_PAGE",
    "CASE_STATUS",
    "CATALOGS",
    "CHAT",
    "EN",
    "HEAD",
    "LANGUAGES",
    "LIKERT",
    "LIKERT_VI_LABELS",
    "TIMELINESS",
    "TYPED",
    "VI",
    "Catalogs",
    "MissingText",
    "chat_text",
    "has_text",
    "head_text",
    "section",
    "text",
]
