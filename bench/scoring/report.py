"""Markdown tables of a scoring benchmark result (the JSON written to bench/results/)."""

from __future__ import annotations

from typing import Any

GIB = 1024**3
MIB = 1024**2


def size(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / GIB:.2f} GiB" if value >= GIB else f"{value / MIB:.0f} MiB"


def secs(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 120:
        return f"{value / 60:.1f} min ({value:.0f} s)"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _yes(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def summary_table(result: dict[str, Any]) -> str:
    s = result["summary"]
    base = s["baseline_s"]
    rows = [
        "| Measurement | Time | × bare groupby | Peak RSS (Python process) | Target | Met |",
        "|---|---|---|---|---|---|",
        f"| Daily job: score_day(yesterday) + day/MTD/YTD SIPAS per agency from stored counts"
        f" (median of {s['daily_runs']}, max peak) | {secs(s['daily_s'])}"
        f" | {s['daily_ratio']:.1f}× | {size(s['daily_peak'])}"
        f" | ≤ 2× and < 1.5 GiB | {_yes(s['ratio_ok'])} / {_yes(s['peak_ok'])} |",
        f"| Bare groupby, categorical keys: `(df.value >= 4).groupby([df.agency, df.question])"
        f".mean()` over {s['baseline_rows']:,} rows (median of {s['baseline_repeat']})"
        f" | {secs(base)} | 1.0× | {size(s['baseline_peak'])} | | |",
    ]
    if s.get("baseline_str_s") is not None:
        rows.append(
            f"| Same groupby, str keys (context) | {secs(s['baseline_str_s'])}"
            f" | {s['baseline_str_s'] / base:.1f}× | {size(s['baseline_str_peak'])} | | |"
        )
    if s.get("candidate_s") is not None:
        rows.append(
            f"| Candidate, not product code: same job, day/MTD/YTD summed in SQL"
            f" (median of {s['daily_runs']}) | {secs(s['candidate_s'])}"
            f" | {s['candidate_s'] / base:.1f}× | {size(s['candidate_peak'])}"
            f" | ≤ 2× and < 1.5 GiB | {_yes(s['candidate_s'] <= 2 * base)}"
            f" / {_yes(s['candidate_peak'] < 1.5 * GIB)} |"
        )
    rows.append(
        f"| Full recomputation of the year: {s['recompute_days']} × score_day"
        f" | {secs(s['recompute_s'])} | {_ratio(s['recompute_s'], base)}"
        f" | {size(s['recompute_peak'])} | | |"
    )
    rows.append(
        f"| Setup (migrate, generate, VACUUM/ANALYZE; not part of any target)"
        f" | {secs(s['setup_s'])} | | {size(s['setup_peak'])} | | |"
    )
    return "\n".join(rows)


def _ratio(value: float | None, base: float) -> str:
    return "—" if value is None else f"{value / base:.0f}×"


def phases_table(run: dict[str, Any], title: str) -> str:
    rows = [
        f"{title}\n",
        "| Phase | Seconds | RSS after | Peak so far | Rows |",
        "|---|---|---|---|---|",
    ]
    for phase in run["phases"]:
        rows.append(
            f"| {phase['phase']} | {phase['seconds']:.3f} | {phase['rss_mib']:.0f} MiB"
            f" | {phase['peak_mib']:.0f} MiB | {phase.get('rows', '')} |"
        )
    backend = run.get("backend") or {}
    if "VmHWM" in backend:
        rows.append(
            f"\nPostgreSQL backend of the job (aggregation runs there, outside the Python peak):"
            f" VmHWM {size(backend['VmHWM'])} (includes {size(backend.get('RssShmem'))} of"
            f" shared buffers touched), private RSS at the end {size(backend.get('RssAnon'))}."
        )
    return "\n".join(rows)


def rows_table(result: dict[str, Any]) -> str:
    counts = result["setup"].get("counts", {})
    s = result["summary"]
    pairs = [
        ("agencies", counts.get("agencies")),
        ("procedures", counts.get("procedures")),
        ("cases", counts.get("cases")),
        ("surveys", counts.get("surveys")),
        ("answers", counts.get("answers")),
        ("five-level answers (F1..F5, OVERALL)", counts.get("likert_answers")),
        ("daily_scores rows after the recomputation", s.get("daily_scores_rows")),
        ("stored rows read by the daily job (YTD)", s.get("stored_rows_ytd")),
        ("bare groupby rows / groups", f"{s['baseline_rows']:,} / {s['baseline_groups']:,}"),
    ]
    out = ["| Rows | Count |", "|---|---|"]
    for name, value in pairs:
        text = f"{value:,}" if isinstance(value, int) else str(value)
        out.append(f"| {name} | {text} |")
    return "\n".join(out)


def markdown(result: dict[str, Any]) -> str:
    parts = [
        f"### Scoring benchmark — {result['db']}, {result['answers']:,} answers"
        f" ({result['stamp']}{', quick' if result['quick'] else ''})\n",
        summary_table(result),
        "",
        phases_table(result["daily_median_run"], "Daily job, phases of the median run:"),
    ]
    if result.get("candidate_median_run"):
        parts += ["", phases_table(result["candidate_median_run"], "Candidate, phases:")]
    parts += ["", rows_table(result)]
    checks = result.get("checks", {})
    if checks:
        parts += ["", "Checks: " + "; ".join(f"{k}: {v}" for k, v in checks.items())]
    return "\n".join(parts)


__all__ = ["markdown"]
