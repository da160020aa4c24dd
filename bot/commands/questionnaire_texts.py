"""What admins read while shaping the questionnaire.

The texts live in the catalog under `editor.*` (`bot/texts/vi.py`, `bot/texts/en.py`):
messages at `editor.<key>`, and the names of kinds, topics, fields, changed fields, built-in
forms and help lines at `editor.kind.*`, `editor.topic.*`, `editor.field.*`,
`editor.changed.*`, `editor.base.*` and `editor.help.*`. Everything reads through the one lookup.
"""

from __future__ import annotations

from typing import Final

from bot.texts import EN, VI, has_text, section, text

LANGUAGES: Final = (VI, EN)


def _views(namespace: str) -> dict[str, dict[str, str]]:
    return {language: section(language, f"editor.{namespace}") for language in LANGUAGES}


KIND_NAMES: Final[dict[str, dict[str, str]]] = _views("kind")
TOPIC_NAMES: Final[dict[str, dict[str, str]]] = _views("topic")
FIELD_NAMES: Final[dict[str, dict[str, str]]] = _views("field")
CHANGED_NAMES: Final[dict[str, dict[str, str]]] = _views("changed")
BASE_NAMES: Final[dict[str, dict[str, str]]] = _views("base")
HELP: Final[dict[str, dict[str, str]]] = _views("help")
MESSAGES: Final[dict[str, dict[str, str]]] = {
    language: section(language, "editor") for language in LANGUAGES
}


def qtext(language: str, key: str, /, *, buttons: object = True, **params: object) -> str:
    """An admin message in `language` (Vietnamese when unknown), with `params` filled in."""
    return text(language, f"editor.{key}", buttons=buttons, **params)


def _name(language: str, namespace: str, code: str) -> str:
    """The name of a kind, topic, field or form; a code the catalog does not name reads as
    itself (it came from stored data, not from a text key)."""
    key = f"editor.{namespace}.{code}"
    return text(language, key) if has_text(key) else code


def kind_name(language: str, kind: str) -> str:
    return _name(language, "kind", kind)


def topic_name(language: str, topic: str) -> str:
    return _name(language, "topic", topic)


def field_list(language: str) -> str:
    """The fields `/q_sua` accepts, one a line."""
    return "\n".join(section(language if language in LANGUAGES else VI, "editor.field").values())


def changed_name(language: str, field: str) -> str:
    """How a changed field (or "yes"/"no") reads in an edit confirmation."""
    return _name(language, "changed", field)


def base_name(language: str, base: str) -> str:
    return _name(language, "base", base)


def help_line(language: str, command: str) -> str:
    return text(language, f"editor.help.{command}")


__all__ = [
    "BASE_NAMES",
    "CHANGED_NAMES",
    "EN",
    "FIELD_NAMES",
    "HELP",
    "KIND_NAMES",
    "MESSAGES",
    "TOPIC_NAMES",
    "VI",
    "base_name",
    "changed_name",
    "field_list",
    "help_line",
    "kind_name",
    "qtext",
    "topic_name",
]
