"""Markdown tables and target checks of the ZNS fan-out benchmark's result."""

from __future__ import annotations

from typing import Any

SHARE = 0.95  # of ZALO_ZNS_RATE_PER_SECOND, in the steady part


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _check(name: str, measured: str, met: bool) -> dict[str, Any]:
    return {"check": name, "measured": measured, "met": met}


def ratio(a: Any, b: Any) -> float | None:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return round(a / b, 3) if numbers and b else None


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Steady: ≥ 95 % of the rate, never above it in a second, 0 lost, 0 twice. Kill: 0 lost,
    duplicates ≤ the rows in flight at the kill."""
    found = []
    steady = result.get("steady")
    if steady:
        limit, pct = steady["limit_per_s"], steady["steady_pct_of_limit"]
        found += [
            _check(
                f"steady part ≥ {SHARE:.0%} of {limit}/s",
                f"{_f(steady['steady_per_s'], 2)}/s = {_f(pct)} %",
                pct is not None and pct >= 100 * SHARE,
            ),
            _check(
                f"at most {limit} sends in any second",
                str(steady["max_calls_in_1s"]),
                steady["max_calls_in_1s"] <= limit,
            ),
            _check("steady: every case invited", f"{steady['lost']} lost", steady["lost"] == 0),
            _check(
                "steady: no invitation twice",
                f"{steady['duplicated']} twice",
                steady["duplicated"] == 0,
            ),
        ]
    kill = result.get("kill")
    if kill:
        bound = kill["in_flight_at_kill"]
        found += [
            _check("kill -9: every case invited", f"{kill['lost']} lost", kill["lost"] == 0),
            _check(
                "kill -9: duplicates ≤ rows in flight at the kill",
                f"{kill['duplicated']} twice, {bound} in flight "
                f"(dispatcher bound {kill['dispatcher_max_in_flight']})",
                kill["duplicated"] <= bound <= kill["dispatcher_max_in_flight"],
            ),
            _check(
                "kill -9: at most the configured rate in any second",
                str(kill["max_calls_in_1s"]),
                kill["max_calls_in_1s"] <= kill["limit_per_s"],
            ),
        ]
    if "error" in result:
        found.append(_check("run completed", result["error"], False))
    return found


def _ms_each(cpu: dict[str, Any] | None, count: int) -> float | None:
    """The service's CPU ms per item over a stretch (None without CPU figures or items)."""
    if not cpu or not count or cpu.get("service_cpu_s") is None:
        return None
    return round(1000.0 * float(cpu["service_cpu_s"]) / count, 2)


def _row(label: str, run: dict[str, Any]) -> str:
    return (
        f"| {label} | {run['delivered_cases']} | {_f(run['window_s'], 1)} "
        f"| {_f(run['achieved_per_s'], 2)} | {_f(run['steady_per_s'], 2)} "
        f"| {_f(run['steady_pct_of_limit'])} | {run['max_calls_in_1s']} | {run['lost']} "
        f"| {run['duplicated']} | {_f(run['first_after_start_s'], 2)} |"
    )


def markdown(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        f"### ZNS fan-out: {config['cases']} cases at status 10 with a phone, "
        f"ZALO_ZNS_RATE_PER_SECOND={config['rate']} ({config['db']})",
        "",
        "| sender | cases invited | window s | overall /s | steady /s | steady % of rate "
        "| max sends in 1 s | lost | twice | first after start s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    steady, kill, base = result.get("steady"), result.get("kill"), result.get("baseline")
    if steady:
        lines.append(_row("`sipas serve` (route + outbox + dispatcher)", steady))
    if base:
        lines.append(_row("bare token bucket", base))
    if kill:
        lines.append(
            _row("`sipas serve`, `kill -9` at half, restarted (window with the gap)", kill)
        )
    if steady and base:
        in_steady = ratio(steady["steady_per_s"], base["steady_per_s"])
        overall = ratio(steady["achieved_per_s"], base["achieved_per_s"])
        lines += [
            "",
            f"Steady rate, service ÷ baseline: **{_f(in_steady, 3)}×** (overall {_f(overall, 3)}×)",
        ]
    if steady:
        cpu = steady.get("cpu") or {}
        lines += [
            "",
            "| steady detail | value |",
            "|---|---|",
            f"| status-10 events posted in | {_f(steady['events_posted_s'], 2)} s |",
            f"| refused sends | {steady['refused'] or 'none'} |",
            f"| outbox (kind zns) by status | {steady['outbox']} |",
            f"| CPU s: service / fake / PostgreSQL / driver; machine busy; others "
            f"| {_f(cpu.get('service_cpu_s'), 2)} / {_f(cpu.get('fake_cpu_s'), 2)} / "
            f"{_f(cpu.get('postgres_cpu_s'), 2)} / {_f(cpu.get('bench_cpu_s'), 2)}; "
            f"{_f(cpu.get('machine_busy_pct'))} %; {_f(cpu.get('others_busy_pct'))} % |",
            f"| service CPU per invitation once the intake was done "
            f"| {_f(_ms_each(steady.get('cpu_after_intake'), steady['sent_after_intake']), 2)} ms "
            f"({steady['sent_after_intake']} invitations) |",
            f"| service log | {steady['service_log'].get('error_lines', '–')} error lines, "
            f"{steady['service_log'].get('warning_lines', '–')} warning lines |",
        ]
    if kill:
        lines += [
            "",
            "| kill -9 detail | value |",
            "|---|---|",
            f"| killed after | {_f(kill['killed_after_s'], 2)} s, "
            f"{kill['accepted_before_kill']} invitations accepted |",
            f"| outbox (kind zns) right after the kill | {kill['outbox_at_kill']} |",
            f"| rows in flight at the kill (`sending`) / dispatcher bound "
            f"| {kill['in_flight_at_kill']} / {kill['dispatcher_max_in_flight']} |",
            f"| accepted by Zalo but not recorded `sent` | {kill['accepted_not_recorded']} |",
            f"| duplicates: predicted by that / unexplained "
            f"| {kill['duplicates_predicted']} / {kill['duplicates_unexplained']} |",
            f"| restart: first send after / all invited after "
            f"| {_f(kill['first_after_restart_s'], 2)} s / "
            f"{_f(kill['all_delivered_after_restart_s'], 1)} s "
            f"(claimed rows wait out their {kill['lease_s']:g} s lease) |",
            f"| outbox (kind zns) at the end | {kill['outbox']} |",
        ]
    lines += ["", "| check | measured | met |", "|---|---|---|"]
    for check in result.get("checks", []):
        lines.append(
            f"| {check['check']} | {check['measured']} | {'yes' if check['met'] else '**NO**'} |"
        )
    for note in result.get("notes", []):
        lines.append(f"\nWARNING: {note}")
    return "\n".join(lines)
