"""Ratios, target checks and the markdown tables printed at the end of a run."""

from __future__ import annotations

from typing import Any

RATIOS = (
    ("C-pg", "B-pg"),
    ("C-sqlite", "B-sqlite"),
    ("C-pg", "A"),
    ("C-sqlite", "A"),
    ("B-pg", "A"),
    ("B-sqlite", "A"),
)
THROUGHPUT_TARGET = ("C-pg", "B-pg", 0.75)
OPEN_LOOP_P99_MS = 50.0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def ratios(targets: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for top, bottom in RATIOS:
        a = targets.get(top, {}).get("closed", {}).get("rps")
        b = targets.get(bottom, {}).get("closed", {}).get("rps")
        if a and b:
            out[f"{top}/{bottom}"] = round(a / b, 3)
    return out


def ratios_by_round(targets: dict[str, Any]) -> dict[str, list[float]]:
    """The same ratios round by round (targets measured back to back), for `--rounds` > 1."""
    out: dict[str, list[float]] = {}
    for top, bottom in RATIOS:
        a = targets.get(top, {}).get("closed", {}).get("rps_rounds") or []
        b = targets.get(bottom, {}).get("closed", {}).get("rps_rounds") or []
        if len(a) > 1 and len(a) == len(b) and all(a) and all(b):
            out[f"{top}/{bottom}"] = [round(x / y, 3) for x, y in zip(a, b, strict=True)]
    return out


def checks(targets: dict[str, Any], ratio_values: dict[str, float]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    top, bottom, minimum = THROUGHPUT_TARGET
    key = f"{top}/{bottom}"
    if key in ratio_values:
        out.append(
            {
                "check": f"throughput {key} ≥ {minimum}",
                "value": ratio_values[key],
                "pass": ratio_values[key] >= minimum,
            }
        )
    for name, result in targets.items():
        open_loop = result.get("open")
        if open_loop:
            p99 = open_loop.get("p99_ms")
            out.append(
                {
                    "check": f"{name} p99 < {OPEN_LOOP_P99_MS:.0f} ms at "
                    f"{open_loop['rate']:.0f} req/s",
                    "value": p99,
                    "pass": p99 is not None
                    and p99 < OPEN_LOOP_P99_MS
                    and open_loop.get("errors", 0) == 0,
                }
            )
    return out


def markdown(run: dict[str, Any]) -> str:
    targets: dict[str, Any] = run["targets"]
    config = run["config"]
    lines = [
        f"Closed loop: {config['concurrency']} workers, {config['duration']:g} s measured after "
        f"{config['warmup']:g} s warm-up per target.",
        "",
        "| target | what | req/s | p50 ms | p99 ms | errors "
        "| CPU ms/req: server / PostgreSQL / load gen / other | machine busy |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, result in targets.items():
        closed = result.get("closed")
        if not closed:
            continue
        cpu = closed.get("cpu", {})
        split = " / ".join(
            _fmt(cpu.get(f"{who}_cpu_ms_per_req"), 2)
            for who in ("server", "pg", "loadgen", "other")
        )
        busy = cpu.get("machine_busy_pct")
        lines.append(
            f"| {name} | {result['description']} | {_fmt(closed['rps'])} "
            f"| {_fmt(closed['p50_ms'], 2)} | {_fmt(closed['p99_ms'], 2)} "
            f"| {closed['errors']} | {split} | {_fmt(busy)}% |"
        )
    ratio_values = run.get("ratios", {})
    by_round = run.get("ratios_by_round", {})
    if ratio_values and by_round:
        lines += ["", "| ratio (req/s) | value | round by round |", "| --- | ---: | --- |"]
        lines += [
            f"| {key} | {value:.2f} | {', '.join(f'{r:.2f}' for r in by_round.get(key, []))} |"
            for key, value in ratio_values.items()
        ]
    elif ratio_values:
        lines += ["", "| ratio (req/s) | value |", "| --- | ---: |"]
        lines += [f"| {key} | {value:.2f} |" for key, value in ratio_values.items()]
    open_rows = [(n, r["open"]) for n, r in targets.items() if r.get("open")]
    if open_rows:
        lines += [
            "",
            f"Open loop: fixed schedule, latency from the scheduled send time, "
            f"{config['open_duration']:g} s measured.",
            "",
            "| target | offered req/s | p50 ms | p99 ms | max ms | errors | p99 < 50 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, result in open_rows:
            ok = (
                result["p99_ms"] is not None
                and result["p99_ms"] < OPEN_LOOP_P99_MS
                and result["errors"] == 0
            )
            lines.append(
                f"| {name} | {_fmt(result['offered_rps'])} | {_fmt(result['p50_ms'], 2)} "
                f"| {_fmt(result['p99_ms'], 2)} | {_fmt(result['max_ms'], 2)} "
                f"| {result['errors']} | {'yes' if ok else '**NO**'} |"
            )
    if run.get("checks"):
        lines += ["", "| target check | value | verdict |", "| --- | ---: | --- |"]
        for check in run["checks"]:
            verdict = "PASS" if check["pass"] else "**MISSED**"
            lines.append(f"| {check['check']} | {_fmt(check['value'], 2)} | {verdict} |")
    return "\n".join(lines)
