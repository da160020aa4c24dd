"""Markdown tables of a fan-out benchmark result."""

from __future__ import annotations

from typing import Any

FANOUT_TARGET_PCT = 95.0
P99_TARGET_MS = 100.0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def fanout_ok(run: dict[str, Any]) -> bool:
    """Zero loss, zero duplicates, zero violations, and (without faults) ≥ 95 % of 30/s."""
    clean = run["lost"] == 0 and run["duplicated"] == 0 and run["violations"] == 0
    if run["fault_rate_429"] > 0:
        return clean and not run["timed_out"]
    return clean and (run["achieved_pct_of_30"] or 0.0) >= FANOUT_TARGET_PCT


def fanout_table(targets: list[dict[str, Any]]) -> str:
    lines = [
        "| DB | run | chats | invitations ok | window s | achieved msg/s | % of 30/s "
        "| attempts/s | max in 1 s | min span of 31 sends s | injected 429 | flood 429 "
        "| violations | lost | duplicated | target met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for target in targets:
        for run in target.get("fanout", []):
            lines.append(
                f"| {target['db']} | {run['label']} | {run['chats']} | {run['invitations_ok']} "
                f"| {_fmt(run['window_s'])} | {_fmt(run['achieved_per_s'], 2)} "
                f"| {_fmt(run['achieved_pct_of_30'])} "
                f"| {_fmt(run['attempts_per_s_in_window'], 2)} | {run['max_sends_in_1s']} "
                f"| {_fmt(run['span_of_31_sends_s']['min'], 3)} "
                f"| {run['injected_429']} | {run['flood_429']} | {run['violations']} "
                f"| {run['lost']} | {run['duplicated']} | {_yes(fanout_ok(run))} |"
            )
    return "\n".join(lines)


def latency_table(targets: list[dict[str, Any]]) -> str:
    lines = [
        "| DB | presses | next question p50 ms | p90 ms | p99 ms | max ms "
        "| echo baseline p50 ms | baseline p99 ms | p99 ratio | missing | p99 < 100 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for target in targets:
        press = target.get("press")
        if not press:
            continue
        nq = press["next_question"]
        base = (target.get("baseline") or {}).get("round_trip", {})
        ratio = nq["p99_ms"] / base["p99_ms"] if nq.get("p99_ms") and base.get("p99_ms") else None
        ok = nq.get("p99_ms") is not None and nq["p99_ms"] < P99_TARGET_MS and not press["missing"]
        lines.append(
            f"| {target['db']} | {press['presses']} | {_fmt(nq['p50_ms'])} "
            f"| {_fmt(nq['p90_ms'])} | {_fmt(nq['p99_ms'])} | {_fmt(nq['max_ms'])} "
            f"| {_fmt(base.get('p50_ms'))} | {_fmt(base.get('p99_ms'))} | {_fmt(ratio)}× "
            f"| {press['missing']} | {_yes(ok)} |"
        )
    return "\n".join(lines)


def setup_table(targets: list[dict[str, Any]]) -> str:
    lines = [
        "| DB | cases | intake s | linking s | link confirmations/s | link violations "
        "| CPU busy by others during fan-out % |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for target in targets:
        setup = target.get("setup")
        if not setup:
            continue
        others = ", ".join(
            _fmt(run["cpu"].get("others_busy_pct")) for run in target.get("fanout", [])
        )
        lines.append(
            f"| {target['db']} | {setup['cases']} | {_fmt(setup['intake_s'])} "
            f"| {_fmt(setup['link_s'])} | {_fmt(setup['link_confirmation_rate'], 2)} "
            f"| {setup['link_violations']} | {others} |"
        )
    return "\n".join(lines)


def render(result: dict[str, Any]) -> str:
    targets = result["targets"]
    parts = [
        f"### Fan-out: {result['chats']} chats per run, Telegram limit 30 msg/s",
        "",
        fanout_table(targets),
        "",
        "### Press → next question (polling), vs. a minimal python-telegram-bot echo bot",
        "",
        latency_table(targets),
        "",
        "### Setup and machine",
        "",
        setup_table(targets),
    ]
    return "\n".join(parts)
