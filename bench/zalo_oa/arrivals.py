"""What the stub OA API saw during a fan-out: invitations per user, their arrival rate, the
calls it refused on purpose (and which to refuse), and the most calls that arrived in any
second; when the outbox queued the invitations.

Times are the stub's `time.monotonic()` at the arrival of each call (seconds).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bench.fanout.stats import max_in_window, rate
from bench.zalo_oa.common import as_datetime


def _ok(call: dict[str, Any]) -> bool:
    return call["status"] == 200 and call["error"] == 0


def per_user(calls: Iterable[dict[str, Any]], users: set[str], mark: str) -> dict[str, list[float]]:
    """Arrival times of the successful CS messages containing `mark`, per user of `users`."""
    found: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call["kind"] == "message" and _ok(call) and call["user"] in users:
            if mark in (call.get("text") or ""):
                found[call["user"]].append(call["t"])
    return found


def per_second(times: list[float]) -> list[int]:
    """Arrivals in each whole second after the first."""
    if not times:
        return []
    first = times[0]
    counts: dict[int, int] = defaultdict(int)
    for t in times:
        counts[int(t - first)] += 1
    return [counts.get(i, 0) for i in range(max(counts) + 1)]


def analyse(
    calls: list[dict[str, Any]],
    users: set[str],
    *,
    mark: str,
    limit: int,
    started_at: float,
    steady_from: float | None = None,
) -> dict[str, Any]:
    """One fan-out as the OA API saw it, against `limit` calls per second.

    The achieved rate is the sustained one: successful invitations per second over the bulk,
    from the first arrival to the last arrival of an invitation that was never refused; a
    refused invitation sent again after that (a -32 waits 30 s) is the tail, reported apart,
    and `overall_per_s` counts first to last of all. A refused attempt took a slot of the
    budget all the same, so `attempts_per_s` counts every call in the bulk. `max_calls_in_1s`
    is the most calls (any outcome) that arrived within any second. With `steady_from` (when
    the last invitation was queued, on the same clock), `steady_per_s` is the rate over the
    rest of the bulk: the dispatcher alone, with nothing else arriving.
    """
    messages = [c for c in calls if c["kind"] == "message"]
    invites = per_user(messages, users, mark)
    times = sorted(t for arrivals in invites.values() for t in arrivals)
    refused_users = {c["user"] for c in messages if c.get("injected")}
    clean = sorted(t for u, arrivals in invites.items() if u not in refused_users for t in arrivals)
    first, last = (clean[0], clean[-1]) if clean else (0.0, 0.0)
    bulk = [t for t in times if first <= t <= last] if clean else []
    window = last - first if last > first else None
    achieved = rate(bulk)
    overall = rate(times)
    attempts = rate([c["t"] for c in messages if clean and first <= c["t"] <= last])
    steady = rate([t for t in bulk if steady_from is not None and t >= steady_from])
    retried = sorted(min(invites[u]) - started_at for u in refused_users if u in invites)
    others = [c for c in messages if _ok(c) and c["user"] not in users]
    not_invites = [
        c for c in messages if _ok(c) and c["user"] in users and mark not in (c.get("text") or "")
    ]
    errors: dict[str, int] = defaultdict(int)
    for c in messages:
        if not _ok(c) and not c.get("injected"):
            errors[f"{c['status']}/{c['error']}"] += 1
    return {
        "users": len(users),
        "invitations_ok": len(times),
        "lost": sum(1 for u in users if u not in invites),
        "duplicated": sum(1 for arrivals in invites.values() if len(arrivals) > 1),
        "window_s": round(window, 3) if window else None,
        "achieved_per_s": round(achieved, 2) if achieved else None,
        "achieved_pct_of_limit": round(100 * achieved / limit, 1) if achieved else None,
        "overall_per_s": round(overall, 2) if overall else None,
        "tail": len(times) - len(bulk),
        "tail_ends_after_bulk_s": round(times[-1] - last, 2) if times and clean else None,
        "attempts_per_s": round(attempts, 2) if attempts else None,
        "max_calls_in_1s": max_in_window([c["t"] for c in messages], 1.0),
        "limit_per_s": limit,
        "first_after_start_s": round(times[0] - started_at, 3) if times else None,
        "last_after_start_s": round(times[-1] - started_at, 2) if times else None,
        "injected_rate_limited": sum(1 for c in messages if c.get("injected") and c["error"]),
        "injected_unavailable": sum(
            1 for c in messages if c.get("injected") and c["status"] != 200
        ),
        "refused_users": len(refused_users),
        "refused_then_delivered": len(retried),
        "steady_from_s": round(steady_from - started_at, 2) if steady_from is not None else None,
        "steady_per_s": round(steady, 2) if steady else None,
        "steady_pct_of_limit": round(100 * steady / limit, 1) if steady else None,
        "retried_arrivals_after_start_s": [round(t, 2) for t in retried],
        "other_messages_to_these_users": len(not_invites),
        "messages_to_other_users": len(others),
        "unexpected_errors": dict(errors),
        "per_second": per_second(times),
    }


def fault_plan(n: int, rate_limited: int, unavailable: int) -> dict[str, list[int]]:
    """Which message calls are refused: -32 among the first 15 % (their retry 30 s later then
    still falls inside the fan-out), 503 anywhere; fixed by a seed, disjoint."""
    rng = random.Random(7)
    early = rng.sample(range(max(rate_limited, int(n * 0.15))), rate_limited)
    rest = [i for i in range(n) if i not in set(early)]
    return {"rate_limited": sorted(early), "unavailable": sorted(rng.sample(rest, unavailable))}


def enqueued(
    rows: list[tuple[Any, ...]], limit: int, clocks: tuple[float, datetime]
) -> dict[str, Any]:
    """When the invitations were queued (the outbox rows' own `created_at`, naive UTC): if
    the last one was queued well before n/limit seconds, the dispatcher always had work.
    `clocks` is one instant on `time.monotonic()` and on naive UTC, to place the last one on
    the stub's clock."""
    times = sorted(t for t in (as_datetime(r[0]) for r in rows) if t is not None)
    if not times:
        return {}
    span = (times[-1] - times[0]).total_seconds()
    mono, wall = clocks
    return {
        "rows": len(times),
        "all_queued_after_s": round(span, 2),
        "ideal_send_s": round(len(times) / limit, 2),
        "last_queued_monotonic": mono + (times[-1] - wall).total_seconds(),
    }
