"""What the fake ZNS saw during a fan-out: invitations per case and per tracking id, their
arrival rate over the whole run and in its steady part, lost and duplicated invitations.

Calls are the fake's `/_fake/calls` rows (`t`: arrival, epoch seconds on the fake's clock, the
same clock as the driver's `time.time()` on this machine). A case is identified by the
template's `ma_ho_so` (the case code), an invitation by its `tracking_id` (the survey's id):
"duplicated" means Zalo accepted the same tracking id more than once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from bench.fanout.stats import max_in_window, rate

STEADY_FROM = 0.05  # the steady part: from the 5 % mark of the arrivals…
STEADY_TO = 0.95  # …to the 95 % mark (leaves out the start's burst and the tail)


def ok(call: dict[str, Any]) -> bool:
    return call["status"] == 200 and call["error"] == 0


def accepted(calls: Iterable[dict[str, Any]], template_id: str) -> list[dict[str, Any]]:
    """The sends of `template_id` the fake accepted, in arrival order."""
    return sorted((c for c in calls if ok(c) and c["template_id"] == template_id), key=_t)


def _t(call: dict[str, Any]) -> float:
    return float(call["t"])


def delivered_cases(calls: Iterable[dict[str, Any]], template_id: str) -> set[str]:
    return {str(c["case"]) for c in accepted(calls, template_id)}


def steady_rate(times: Sequence[float]) -> tuple[float | None, float | None]:
    """(arrivals per second between the 5 % and 95 % marks, that span in seconds)."""
    ordered = sorted(times)
    if len(ordered) < 20:
        return rate(ordered), (ordered[-1] - ordered[0]) if len(ordered) > 1 else None
    lo, hi = int(len(ordered) * STEADY_FROM), int(len(ordered) * STEADY_TO) - 1
    span = ordered[hi] - ordered[lo]
    return ((hi - lo) / span if span > 0 else None), span


def per_second(times: Sequence[float]) -> list[int]:
    """Arrivals in each whole second after the first."""
    if not times:
        return []
    first = min(times)
    counts: Counter[int] = Counter(int(t - first) for t in times)
    return [counts.get(i, 0) for i in range(max(counts) + 1)]


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def analyse(
    calls: list[dict[str, Any]],
    cases: set[str],
    *,
    template_id: str,
    limit: int,
    started_at: float,
) -> dict[str, Any]:
    """One fan-out as the fake saw it, against `limit` sends per second."""
    sends = accepted(calls, template_id)
    times = [_t(c) for c in sends]
    by_case: dict[str, int] = defaultdict(int)
    by_tracking: Counter[str] = Counter()
    for call in sends:
        by_case[str(call["case"])] += 1
        by_tracking[str(call["tracking_id"])] += 1
    overall = rate(times)
    steady, steady_span = steady_rate(times)
    errors: Counter[str] = Counter(f"{c['status']}/{c['error']}" for c in calls if not ok(c))
    twice = sorted(t for t, n in by_tracking.items() if n > 1)
    return {
        "cases": len(cases),
        "accepted": len(sends),
        "delivered_cases": sum(1 for case in cases if by_case.get(case)),
        "lost": sum(1 for case in cases if not by_case.get(case)),
        "duplicated": len(twice),
        "extra_sends": sum(n - 1 for n in by_tracking.values() if n > 1),
        "duplicated_tracking_ids": twice[:50],
        "cases_with_two_tracking_ids": sum(1 for n in by_case.values() if n > 1) - len(twice),
        "limit_per_s": limit,
        "window_s": _r(times[-1] - times[0], 3) if len(times) > 1 else None,
        "achieved_per_s": _r(overall),
        "achieved_pct_of_limit": _r(100 * overall / limit, 1) if overall else None,
        "steady_per_s": _r(steady),
        "steady_pct_of_limit": _r(100 * steady / limit, 1) if steady else None,
        "steady_span_s": _r(steady_span),
        "max_calls_in_1s": max_in_window([_t(c) for c in calls], 1.0),
        "first_after_start_s": _r(times[0] - started_at, 3) if times else None,
        "last_after_start_s": _r(times[-1] - started_at) if times else None,
        "other_templates": sum(1 for c in calls if ok(c) and c["template_id"] != template_id),
        "refused": dict(errors),
        "per_second": per_second(times),
    }


def first_bodies(calls: Iterable[dict[str, Any]], template_id: str) -> list[dict[str, Any]]:
    """The body of the first accepted send of each tracking id (for the baseline sender)."""
    seen: dict[str, dict[str, Any]] = {}
    for call in accepted(calls, template_id):
        body = call.get("body")
        if isinstance(body, dict):
            seen.setdefault(str(call["tracking_id"]), body)
    return list(seen.values())


def strip_bodies(calls: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls without their bodies (the phone numbers stay out of every result)."""
    return [{k: v for k, v in call.items() if k != "body"} for call in calls]
