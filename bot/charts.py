"""The digest's chart: SIPAS per day for the last 30 days, as a PNG small enough for a phone."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt


def sipas_chart(
    series: Sequence[tuple[str, float | None]], *, title: str, target: float = 90.0
) -> bytes:
    """A line of daily SIPAS (%) with the target line; days without data are gaps."""
    days = [date.fromisoformat(day) for day, _ in series]
    values = [float("nan") if value is None else value for _, value in series]
    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    try:
        axes.plot(
            days,  # type: ignore[arg-type]
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
