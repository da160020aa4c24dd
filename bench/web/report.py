"""Targets, ratios and the markdown tables printed at the end of a web survey benchmark run."""

from __future__ import annotations

from typing import Any

GET_P99_MS = 50.0
POST_P99_MS = 100.0
PAGE_LIMIT_BYTES = 50_000
OPEN_PHASES = (
    ("get-service", "GET, `sipas serve`"),
    ("post-service", "POST, `sipas serve`"),
    ("get-baseline", "GET, bare baseline"),
)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _statuses(phase: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(phase.get("statuses", {}).items()))


def _other(phase: dict[str, Any]) -> float:
    """Share of the machine other processes took during a phase's window (%)."""
    return float(phase.get("cpu", {}).get("other_cpu_pct_of_machine") or 0.0)


def ratios(document: dict[str, Any]) -> dict[str, Any]:
    """Service against baseline: closed-loop throughput (each round, and the round least
    disturbed by other processes), open-loop p99 and server CPU per request."""
    service = document["phases"].get("closed-service", [])
    baseline = document["phases"].get("closed-baseline", [])
    out: dict[str, Any] = {}
    pairs = [(s, b) for s, b in zip(service, baseline, strict=False) if s["rps"] and b["rps"]]
    if pairs:
        out["throughput_service_over_baseline_rounds"] = [
            round(s["rps"] / b["rps"], 3) for s, b in pairs
        ]
        s, b = min(pairs, key=lambda pair: max(_other(pair[0]), _other(pair[1])))
        out["throughput_service_over_baseline"] = round(s["rps"] / b["rps"], 3)
        out["throughput_round_other_pct"] = max(_other(s), _other(b))
    phases = document["phases"]
    get, base = phases.get("get-service"), phases.get("get-baseline")
    if get and base and get.get("p99_ms") and base.get("p99_ms"):
        out["open_get_p99_service_over_baseline"] = round(get["p99_ms"] / base["p99_ms"], 2)
    if get and base:
        mine = get.get("cpu", {}).get("server_cpu_ms_per_req")
        theirs = base.get("cpu", {}).get("server_cpu_ms_per_req")
        if mine and theirs:
            out["open_get_server_cpu_service_over_baseline"] = round(mine / theirs, 2)
    return out


def checks(document: dict[str, Any]) -> list[dict[str, Any]]:
    phases = document["phases"]
    out: list[dict[str, Any]] = []
    for key, limit, label in (
        ("get-service", GET_P99_MS, "GET"),
        ("post-service", POST_P99_MS, "POST"),
    ):
        phase = phases.get(key)
        if phase:
            p99 = phase.get("p99_ms")
            out.append(
                {
                    "check": f"{label} p99 < {limit:g} ms at {phase['rate']:g} req/s",
                    "value": p99,
                    "pass": p99 is not None and p99 < limit and not phase["errors"],
                }
            )
    sizes = document.get("page_bytes", {}).get("form", {})
    if sizes:
        largest = max(size["html"] for size in sizes.values())
        out.append(
            {
                "check": f"form page (HTML + CSS + script) < {PAGE_LIMIT_BYTES:,} bytes",
                "value": largest,
                "pass": largest < PAGE_LIMIT_BYTES,
            }
        )
    recorded = document.get("surveys_completed")
    statuses = phases.get("post-service", {}).get("statuses")
    if recorded is not None and statuses:
        sent, redirected = sum(statuses.values()), statuses.get("303", 0)
        out.append(
            {
                "check": "each POST completed one survey and answered 303",
                "value": f"{recorded} surveys completed, {redirected} × 303, {sent} POSTs",
                "pass": recorded == redirected == sent,
            }
        )
    return out


def markdown(document: dict[str, Any]) -> str:
    phases = document["phases"]
    lines = [
        f"Database: {document['config']['db']}; {document['seeded']['cases']:,} cases seeded at "
        f"status 10 ({document['seeded']['seconds']} s).",
        "",
        "| open loop | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms "
        "| statuses | server CPU ms/req | other % |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for key, label in OPEN_PHASES:
        phase = phases.get(key)
        if not phase:
            continue
        cpu = phase.get("cpu", {})
        lines.append(
            f"| {label} | {_fmt(phase['offered_rps'])} | {_fmt(phase['achieved_rps'])} "
            f"| {_fmt(phase['p50_ms'], 2)} | {_fmt(phase['p90_ms'], 2)} "
            f"| {_fmt(phase['p99_ms'], 2)} | {_fmt(phase['max_ms'], 2)} | {_statuses(phase)} "
            f"| {_fmt(cpu.get('server_cpu_ms_per_req'), 3)} "
            f"| {_fmt(cpu.get('other_cpu_pct_of_machine'))} |"
        )
    lines += [
        "",
        "| closed loop GET | round | req/s | p50 ms | p99 ms | statuses | server CPU ms/req "
        "| other % |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for key, label in (("closed-service", "`sipas serve`"), ("closed-baseline", "baseline")):
        for number, phase in enumerate(phases.get(key, []), 1):
            cpu = phase.get("cpu", {})
            lines.append(
                f"| {label} | {number} | {_fmt(phase['rps'])} | {_fmt(phase['p50_ms'], 2)} "
                f"| {_fmt(phase['p99_ms'], 2)} | {_statuses(phase)} "
                f"| {_fmt(cpu.get('server_cpu_ms_per_req'), 3)} "
                f"| {_fmt(cpu.get('other_cpu_pct_of_machine'))} |"
            )
    sizes = document.get("page_bytes", {})
    if sizes.get("form"):
        lines += ["", "| page | HTML bytes | of which CSS | of which script | gzip -6 |"]
        lines.append("|---|---:|---:|---:|---:|")
        for lang, size in sizes["form"].items():
            lines.append(
                f"| form ({lang}) | {_fmt(size['html'])} | {_fmt(size['css'])} "
                f"| {_fmt(size['script'])} | {_fmt(size['gzip'])} |"
            )
        thanks = sizes.get("thanks")
        if thanks:
            lines.append(
                f"| thank-you (vi) | {_fmt(thanks['html'])} | {_fmt(thanks['css'])} "
                f"| {_fmt(thanks['script'])} | {_fmt(thanks['gzip'])} |"
            )
    ratio = document.get("ratios", {})
    if ratio:
        lines += ["", "| ratio | value |", "|---|---:|"]
        for key, value in ratio.items():
            lines.append(f"| {key} | {value} |")
    if document.get("checks"):
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        for check in document["checks"]:
            lines.append(
                f"| {check['check']} | {_fmt(check['value'], 2)} "
                f"| {'yes' if check['pass'] else '**no**'} |"
            )
    return "\n".join(lines)
