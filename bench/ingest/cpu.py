"""CPU accounting from /proc: who used the machine during a measured window.

The load generator takes a `Snapshot` at the start and at the end of its measured window; the
difference splits the machine's busy time into the server process, PostgreSQL (live backends
plus the children the postmaster already reaped), the load generator itself, and everything
else on the machine ("other": kernel work not charged to a process, and other people's jobs).
A large "other" share means the numbers were disturbed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> tuple[str, list[str]]:
    head, tail = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    return head.split("(", 1)[1], tail.split()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds; 0 if it is gone."""
    try:
        _name, fields = _stat_fields(pid)
    except (OSError, ValueError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postgres_cpu_seconds(database: str | None = None) -> float:
    """CPU of the `postgres` processes, counting exited backends through the postmaster.

    With `database`, live client backends of other databases (someone else's tests) are left
    out; shared processes (WAL writer, checkpointer, autovacuum) and reaped backends are not
    attributable and always count.
    """
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, fields = _stat_fields(entry.name)
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, ValueError, IndexError):
            continue
        if name != "postgres":
            continue
        is_client = "(" in title or "[local]" in title
        if database and is_client and f" {database} " not in title:
            continue
        # utime + stime, and cutime + cstime: the postmaster carries its reaped backends.
        ticks += sum(int(v) for v in fields[11:15])
    return ticks / CLK_TCK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        parts = stat.readline().split()
    values = [int(v) for v in parts[1:11]] + [0] * (10 - len(parts[1:11]))
    user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


@dataclass(frozen=True, slots=True)
class Snapshot:
    wall: float
    machine_busy: int
    machine_total: int
    server: float
    postgres: float
    own: float


def snapshot(server_pid: int | None, postgres_database: str | None) -> Snapshot:
    busy, total = machine_ticks()
    return Snapshot(
        wall=time.perf_counter(),
        machine_busy=busy,
        machine_total=total,
        server=process_cpu_seconds(server_pid) if server_pid else 0.0,
        postgres=postgres_cpu_seconds(postgres_database) if postgres_database else 0.0,
        own=time.process_time(),
    )


def usage(start: Snapshot, end: Snapshot, requests: int) -> dict[str, float | None]:
    """Machine busy share and CPU milliseconds per request of each party over a window."""
    cpus = os.cpu_count() or 1
    wall = end.wall - start.wall
    busy = (end.machine_busy - start.machine_busy) / CLK_TCK
    total = (end.machine_total - start.machine_total) / CLK_TCK
    server = end.server - start.server
    postgres = end.postgres - start.postgres
    own = end.own - start.own
    other = max(0.0, busy - server - postgres - own)

    def per_request(seconds: float) -> float | None:
        return round(1000.0 * seconds / requests, 3) if requests else None

    return {
        "window_s": round(wall, 3),
        "machine_busy_pct": round(100.0 * busy / total, 1) if total > 0 else None,
        "machine_cpus": cpus,
        "server_cpu_ms_per_req": per_request(server),
        "pg_cpu_ms_per_req": per_request(postgres),
        "loadgen_cpu_ms_per_req": per_request(own),
        "other_cpu_ms_per_req": per_request(other),
        "other_cpu_pct_of_machine": round(100.0 * other / (wall * cpus), 1) if wall > 0 else None,
    }


def idle_share(sample_seconds: float = 1.0) -> float:
    """Fraction of the machine that was idle over a short sample."""
    busy0, total0 = machine_ticks()
    time.sleep(sample_seconds)
    busy1, total1 = machine_ticks()
    total = total1 - total0
    return 1.0 - (busy1 - busy0) / total if total > 0 else 1.0
