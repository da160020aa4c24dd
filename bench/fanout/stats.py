"""Small statistics helpers: percentiles, sliding-window counts, CPU use of processes."""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation): with 200 samples p99 is the 198th."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, p50, p90, p99, max in milliseconds."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000.0, 2)

    return {
        "count": len(seconds),
        "mean_ms": ms(sum(seconds) / len(seconds)) if seconds else None,
        "min_ms": ms(min(seconds)) if seconds else None,
        "p50_ms": ms(percentile(seconds, 50)),
        "p90_ms": ms(percentile(seconds, 90)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds)) if seconds else None,
    }


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any half-open interval of `window` seconds (as the fake counts)."""
    ordered = sorted(times)
    best = 0
    for i, t in enumerate(ordered):
        # events in (t - window, t]
        first = bisect.bisect_right(ordered, t - window)
        best = max(best, i - first + 1)
    return best


def rate(times: Sequence[float]) -> float | None:
    """Events per second from the first to the last event: (n - 1) / (last - first)."""
    if len(times) < 2:
        return None
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else None


def _process_ticks(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text.rsplit(")", 1)[1].split()
    # fields[11], fields[12] = utime, stime (stat fields 14, 15)
    return int(fields[11]) + int(fields[12])


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as stat:
        parts = [int(x) for x in stat.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return total - idle, total


@dataclass
class CpuSample:
    at_ticks: dict[str, int]
    busy: int
    total: int


class CpuMeter:
    """CPU seconds of named process groups and of the whole machine between two samples."""

    def __init__(self, groups: dict[str, Iterable[int]]) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}

    def sample(self) -> CpuSample:
        ticks = {
            name: sum(_process_ticks(pid) for pid in pids) for name, pids in self.groups.items()
        }
        busy, total = _machine_ticks()
        return CpuSample(ticks, busy, total)

    def usage(self, start: CpuSample, end: CpuSample, wall: float) -> dict[str, float]:
        """Per group: CPU seconds; plus machine busy share and the share of other processes."""
        cpus = os.cpu_count() or 1
        result: dict[str, float] = {}
        ours = 0
        for name in self.groups:
            used = end.at_ticks[name] - start.at_ticks[name]
            ours += used
            result[f"{name}_cpu_s"] = round(used / TICKS, 2)
        total = max(end.total - start.total, 1)
        busy = end.busy - start.busy
        result["machine_busy_pct"] = round(100.0 * busy / total, 1)
        result["others_busy_pct"] = round(100.0 * max(busy - ours, 0) / total, 1)
        result["wall_s"] = round(wall, 2)
        result["cpus"] = cpus
        return result
