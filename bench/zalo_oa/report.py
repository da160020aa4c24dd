"""Markdown tables and target checks of the Zalo OA benchmarks' results."""

from __future__ import annotations

from typing import Any

WEBHOOK_P99_MS = 100.0
FANOUT_SHARE = 0.95


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(a: Any, b: Any) -> float | None:
    return (
        round(a / b, 2) if isinstance(a, int | float) and isinstance(b, int | float) and b else None
    )


def _check(name: str, measured: str, met: bool) -> dict[str, Any]:
    return {"check": name, "measured": measured, "met": met}


# ------------------------------------------------------------------------------- webhook


def webhook_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """p99 < 100 ms for the service at the rate; every answer 200; every ack stored."""
    checks = []
    rate = result["config"]["rate"]
    for name, target in result.get("targets", {}).items():
        phase = target["phase"]
        others = {k: v for k, v in phase["statuses"].items() if k != "200"}
        checks.append(_check(f"{name}: every answer 200", f"{phase['statuses']}", not others))
        acked = phase["statuses"].get("200", 0)
        checks.append(
            _check(
                f"{name}: every acknowledged event stored",
                f"{target['stored']} stored of {acked}",
                target["stored"] == acked,
            )
        )
    svc = result.get("targets", {}).get("service")
    if svc:
        p99 = svc["phase"]["p99_ms"]
        checks.append(
            _check(
                f"service p99 < {WEBHOOK_P99_MS:g} ms at {rate:g} events/s",
                f"{_f(p99, 2)} ms",
                p99 is not None and p99 < WEBHOOK_P99_MS,
            )
        )
        checks.append(
            _check(
                "service acted on every stored event",
                f"{svc['acted_on']} of {svc['stored']}",
                svc["acted_on"] == svc["stored"],
            )
        )
    if "error" in result:
        checks.append(_check("run completed", result["error"], False))
    return checks


def _cpu(phase: dict[str, Any]) -> str:
    cpu = phase.get("cpu") or {}
    parts = [cpu.get(k) for k in ("server_cpu_ms_per_req", "pg_cpu_ms_per_req")]
    parts += [cpu.get(k) for k in ("loadgen_cpu_ms_per_req", "other_cpu_ms_per_req")]
    return " / ".join("–" if p is None else f"{p:.2f}" for p in parts)


def webhook_markdown(result: dict[str, Any]) -> str:
    config, targets = result["config"], result.get("targets", {})
    lines = [
        f"### Zalo OA webhook: {config['rate']:g} signed `user_send_text`/s for "
        f"{config['duration']:g} s ({config['db']}, {config['users']} users)",
        "",
        "| target | events | acks/s | p50 ms | p90 ms | p99 ms | max ms | statuses "
        "| CPU ms/event: server / PostgreSQL / load gen / other | machine busy | others % |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    labels = {"baseline": "bare aiohttp: mac + 1 INSERT", "service": "`sipas serve`"}
    for name, target in targets.items():
        phase = target["phase"]
        cpu = phase.get("cpu") or {}
        lines.append(
            f"| {labels.get(name, name)} | {phase['requests_scheduled']} "
            f"| {_f(phase['answered_per_s'])} | {_f(phase['p50_ms'], 2)} "
            f"| {_f(phase['p90_ms'], 2)} | {_f(phase['p99_ms'], 2)} | {_f(phase['max_ms'], 2)} "
            f"| {phase['statuses']} | {_cpu(phase)} | {_f(cpu.get('machine_busy_pct'))} % "
            f"| {_f(cpu.get('other_cpu_pct_of_machine'))} |"
        )
    base, svc = targets.get("baseline"), targets.get("service")
    if base and svc:
        bp, sp = base["phase"], svc["phase"]
        key = "server_cpu_ms_per_req"
        cpu_ratio = _ratio((sp.get("cpu") or {}).get(key), (bp.get("cpu") or {}).get(key))
        lines += [
            "",
            "| service ÷ baseline | p50 | p99 | server CPU per event |",
            "|---|---:|---:|---:|",
            f"| ratio | {_f(_ratio(sp['p50_ms'], bp['p50_ms']), 2)}× "
            f"| {_f(_ratio(sp['p99_ms'], bp['p99_ms']), 2)}× "
            f"| {_f(cpu_ratio, 2)}× |",
        ]
    if svc:
        lag = svc["store_to_acted"]
        lines += [
            "",
            "| service after the acks | value |",
            "|---|---|",
            f"| events stored / acted on | {svc['stored']} / {svc['acted_on']} "
            f"(all acted {_f(svc['all_acted_after_last_stored_s'], 2)} s after the last was "
            "stored) |",
            f"| stored → acted on, p50 / p99 / max | {_f(lag['p50_ms'])} / {_f(lag['p99_ms'])} "
            f"/ {_f(lag['max_ms'])} ms |",
            f"| replies at the OA API by the end of the load / when all were acted on "
            f"| {svc['replies_sent_by_end_of_load']} / {svc['replies_sent_by_all_acted']} "
            f"(ZALO_OA_RATE_PER_SECOND={config['oa_rate']}) |",
            f"| outbox rows by status | {svc['outbox']} |",
            f"| service log | {svc['service_log'].get('error_lines', '–')} error lines, "
            f"{svc['service_log'].get('warning_lines', '–')} warning lines |",
            f"| SIGTERM → exit | {_f(svc.get('stop_s'))} s |",
        ]
    lines += ["", "| check | measured | met |", "|---|---|---|"]
    for check in result.get("checks", []):
        lines.append(
            f"| {check['check']} | {check['measured']} | {'yes' if check['met'] else '**NO**'} |"
        )
    for note in result.get("notes", []):
        lines.append(f"\nWARNING: {note}")
    return "\n".join(lines)


# -------------------------------------------------------------------------------- fan-out


def fanout_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """≥ 95 % of the limit sustained, never more than the limit in a second, 0 lost, 0 twice."""
    checks = []
    svc = result.get("service")
    if svc:
        limit = svc["limit_per_s"]
        pct = svc["steady_pct_of_limit"]
        checks += [
            _check(
                f"sustained ≥ {FANOUT_SHARE:.0%} of {limit}/s once every invitation was queued",
                f"{_f(svc['steady_per_s'], 2)}/s = {_f(pct)} % (whole bulk "
                f"{_f(svc['achieved_pct_of_limit'])} %)",
                pct is not None and pct >= 100 * FANOUT_SHARE,
            ),
            _check(
                f"at most {limit} calls in any second",
                str(svc["max_calls_in_1s"]),
                svc["max_calls_in_1s"] <= limit,
            ),
            _check("every invitation arrived", f"{svc['lost']} lost", svc["lost"] == 0),
            _check(
                "no invitation arrived twice", f"{svc['duplicated']} twice", svc["duplicated"] == 0
            ),
            _check(
                "the refused calls were sent again",
                f"{svc['refused_then_delivered']} of {svc['refused_users']} users refused "
                f"({svc['injected_rate_limited'] + svc['injected_unavailable']} calls)",
                svc["refused_then_delivered"] == svc["refused_users"],
            ),
        ]
    if "error" in result:
        checks.append(_check("run completed", result["error"], False))
    return checks


def fanout_markdown(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        f"### Zalo OA fan-out: {config['cases']} linked cases, ZALO_OA_RATE_PER_SECOND="
        f"{config['oa_rate']} ({config['db']}; injected: {config['rate_limited']} × -32, "
        f"{config['unavailable']} × HTTP 503)",
        "",
        "| sender | invitations | bulk s | bulk /s | % of limit | once all queued /s (% of limit) "
        "| calls/s | max calls in 1 s "
        "| -32 / 503 injected | refused → delivered | tail (ends s later) | first to last /s "
        "| lost | twice | first after start s |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    labels = {"service": "`sipas serve` (outbox + dispatcher)", "baseline": "bare token bucket"}
    for name in ("service", "baseline"):
        run = result.get(name)
        if not run:
            continue
        lines.append(
            f"| {labels[name]} | {run['invitations_ok']} | {_f(run['window_s'], 2)} "
            f"| {_f(run['achieved_per_s'], 2)} | {_f(run['achieved_pct_of_limit'])} "
            f"| {_f(run['steady_per_s'], 2)} ({_f(run['steady_pct_of_limit'])}) "
            f"| {_f(run['attempts_per_s'], 2)} | {run['max_calls_in_1s']} "
            f"| {run['injected_rate_limited']} / {run['injected_unavailable']} "
            f"| {run['refused_then_delivered']} "
            f"| {run['tail']} ({_f(run['tail_ends_after_bulk_s'], 2)}) "
            f"| {_f(run['overall_per_s'], 2)} | {run['lost']} | {run['duplicated']} "
            f"| {_f(run['first_after_start_s'], 2)} |"
        )
    svc, base = result.get("service"), result.get("baseline")
    if svc and base:
        ratio = _ratio(svc["achieved_per_s"], base["achieved_per_s"])
        lines += ["", f"Achieved rate, service ÷ baseline: **{_f(ratio, 3)}×**"]
    if svc:
        cpu = svc.get("cpu") or {}
        lines += [
            "",
            "| service detail | value |",
            "|---|---|",
            f"| status-10 events posted in | {_f(svc['events_posted_s'], 2)} s |",
            f"| invitations queued: all within | "
            f"{_f((svc.get('enqueued') or {}).get('all_queued_after_s'), 2)} s of the first "
            f"(sending them at the limit takes "
            f"{_f((svc.get('enqueued') or {}).get('ideal_send_s'), 2)} s); the last "
            f"{_f(svc['steady_from_s'], 2)} s after the start |",
            f"| retried invitations arrived (s after start) "
            f"| {svc['retried_arrivals_after_start_s']} |",
            f"| other messages: to these users / to others "
            f"| {svc['other_messages_to_these_users']} / {svc['messages_to_other_users']} |",
            f"| unexpected API errors | {svc['unexpected_errors'] or 'none'} |",
            f"| outbox rows by status | {svc['outbox']} |",
            f"| CPU s: service / PostgreSQL / stub / driver; machine busy; others "
            f"| {_f(cpu.get('service_cpu_s'), 2)} / {_f(cpu.get('postgres_cpu_s'), 2)} / "
            f"{_f(cpu.get('stub_cpu_s'), 2)} / {_f(cpu.get('bench_cpu_s'), 2)}; "
            f"{_f(cpu.get('machine_busy_pct'))} %; "
            f"{_f(cpu.get('others_busy_pct'))} % |",
            f"| service log | {svc['service_log'].get('error_lines', '–')} error lines, "
            f"{svc['service_log'].get('warning_lines', '–')} warning lines |",
        ]
    setup = result.get("setup")
    if setup:
        lines += [
            "",
            f"Setup: {setup['cases']} cases taken in in {_f(setup['intake_s'])} s, linked by "
            f"link_code in {_f(setup['link_s'])} s at ZALO_OA_RATE_PER_SECOND="
            f"{setup['setup_oa_rate']} ({setup['linked_exactly_once']} confirmed exactly once; "
            f"{setup.get('other_messages', 0)} other messages "
            f"{setup.get('other_message_samples') or ''}).",
        ]
    lines += ["", "| check | measured | met |", "|---|---|---|"]
    for check in result.get("checks", []):
        lines.append(
            f"| {check['check']} | {check['measured']} | {'yes' if check['met'] else '**NO**'} |"
        )
    for note in result.get("notes", []):
        lines.append(f"\nWARNING: {note}")
    return "\n".join(lines)
