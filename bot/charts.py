"""Charts sent to heads, as PNGs small enough for a phone: the digest's SIPAS per day for the
last 30 days, and `/report`'s SIPAS and five factors with their 95 % intervals."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from types import ModuleType


@cache
def _pyplot() -> tuple[ModuleType, ModuleType]:
    """matplotlib's pyplot (on the Agg backend) and dates, imported at the first chart: half a
    second of every process's start otherwise, and most processes never draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    return plt, mdates


def sipas_chart(
    series: Sequence[tuple[str, float | None]], *, title: str, target: float = 90.0
) -> bytes:
    """A line of daily SIPAS (%) with the target line; days without data are gaps."""
    days = [date.fromisoformat(day) for day, _ in series]
    values = [float("nan") if value is None else value for _, value in series]
    plt, mdates = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    try:
        axes.plot(
            days,
            values,
            marker="o",
            markersize=3,
            linewidth=1.6,
            color="#1f6feb",
        )
        axes.axhline(target, color="#d1242f", linewidth=1, linestyle="--")
        axes.set_ylim(0, 100)
        axes.set_ylabel("SIPAS (%)")
        axes.set_title(title, fontsize=10)
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
        figure.autofmt_xdate()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the report chart; `value` None draws no bar (too few answers)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""  # written above the bar, e.g. "n=34"


def factor_chart(
    bars: Sequence[Bar], *, title: str, axis_label: str, target: float, target_label: str
) -> bytes:
    """Bars (SIPAS, then the five factors) with their interval and the agency's threshold."""
    plt, _ = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    try:
        positions = list(range(len(bars)))
        heights = [0.0 if bar.value is None else bar.value for bar in bars]
        colours = ["#1f6feb" if i == 0 else "#6ea8fe" for i in positions]
        axes.bar(positions, heights, color=colours, width=0.6)
        for index, bar in enumerate(bars):
            if bar.value is not None and bar.low is not None and bar.high is not None:
                # The interval is on pooled answers, so the index can sit just outside it.
                axes.errorbar(
                    index,
                    bar.value,
                    yerr=[[max(0.0, bar.value - bar.low)], [max(0.0, bar.high - bar.value)]],
                    color="#24292f",
                    capsize=4,
                    linewidth=1,
                )
            top = bar.high if bar.high is not None else (bar.value or 0.0)
            axes.text(index, min(top + 2, 96), bar.note, ha="center", fontsize=7)
        axes.axhline(target, color="#d1242f", linewidth=1, linestyle="--", label=target_label)
        axes.set_xticks(positions)
        axes.set_xticklabels([bar.label for bar in bars], fontsize=7, rotation=15, ha="right")
        axes.set_ylim(0, 100)
        axes.set_ylabel(axis_label)
        axes.set_title(title, fontsize=9)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="lower right", fontsize=7)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()
