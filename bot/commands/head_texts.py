"""What agency heads read from `/report`, `/late`, `/alerts` and `/mute`.

The texts live in the catalog under `report.*`, `report.help.*` and `factor.*`
(`bot/texts/vi.py`, `bot/texts/en.py`); the names below read them through the one lookup.
Alerts, digests and role messages are `bot.texts.head_text` (`head.*`).
"""

from __future__ import annotations

from typing import Final

from bot.texts import EN, VI, has_text, section, text
from scoring.rounding import round_half_up

# Help line of each head command: (Vietnamese, English).
HELP: Final[dict[str, tuple[str, str]]] = {
    command: (line, section(EN, "report.help")[command])
    for command, line in section(VI, "report.help").items()
}

FACTOR_NAMES: Final[dict[str, dict[int, str]]] = {
    language: {int(factor): name for factor, name in section(language, "factor").items()}
    for language in (VI, EN)
}

TEXTS: Final[dict[str, dict[str, str]]] = {
    language: section(language, "report") for language in (VI, EN)
}


def report_text(language: str, key: str, /, *, buttons: object = True, **params: object) -> str:
    """A text of the heads' commands in `language` (Vietnamese when unknown), filled with
    `params`."""
    return text(language, f"report.{key}", buttons=buttons, **params)


# The name `bot/commands/head.py` and `head_report.py` still import; it is `report_text`, not a
# second lookup (the alert texts are `bot.texts.head_text`).
head_text = report_text


def percent(value: float | None) -> str:
    """A percentage as the reports print it: one decimal, rounded half up; "–" for none."""
    return "–" if value is None else f"{round_half_up(value, 1):.1f}"


def channel_name(language: str, channel: str) -> str:
    """How a report names a channel (its code when the catalog does not know it)."""
    name = f"channels_name_{channel}"
    return report_text(language, name) if has_text(f"report.{name}") else channel


def channel_line(language: str, channel: str, *, invited: int, completed: int) -> str:
    """One channel's response rate: "• Telegram: 33.3% (1/3 phiếu mời)"."""
    rate = None if invited <= 0 else 100.0 * completed / invited
    return report_text(
        language,
        "channels_line",
        channel=channel_name(language, channel),
        rate=percent(rate),
        completed=completed,
        invited=invited,
    )


def factor_name(language: str, factor: int) -> str:
    return text(language, f"factor.{factor}")


__all__ = ["EN", "FACTOR_NAMES", "HELP", "TEXTS", "VI", "factor_name", "head_text", "report_text"]
