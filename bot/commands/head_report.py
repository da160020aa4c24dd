"""`/report` for a head: the period grammar, the figures of a scope, and how they read.

`gather` reads, for a `bot.commands.report_period.Period`, only the scope's agencies
(storage filters in SQL) and computes with `scoring`: SIPAS with n and its 95 % interval, the
five factors, on-time rate and open overdue cases, the worst procedures, QĐ 766, the response
rate and the expectation ranking, and by channel the response rate and the messages the
agencies pay for per month (`storage.channel_report`). A figure whose sample is below the
agency's minimum is never shown as a number: the text says the sample is too small instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.charts import Bar, factor_chart
from bot.commands.head_texts import channel_line, factor_name, head_text, percent
from bot.commands.report_period import Period
from bot.survey.questionnaire import FORMS, Question, Questionnaire, QuestionnaireError, builtin
from scheduler.scoring_jobs import with_meta
from scoring.counts import counts_from_levels
from scoring.frames import (
    EXPECTATIONS,
    FACTORS,
    HARASSMENT,
    MONEY_ASKED,
    OVERALL,
    round_half_up,
)
from scoring.indicators import (
    Qd766,
    expectation_ranking,
    qd766_table,
    response_rate,
    timeliness_summary,
)
from scoring.sipas import DEFAULT_MIN_SAMPLE, IndexRule, factor_indices, rank, sipas_index
from storage import channel_report, head_views
from storage.channel_report import ChannelResponses, PaidMessages
from storage.scores import day_bounds

FEEDBACK_TOPICS = frozenset({MONEY_ASKED, HARASSMENT, OVERALL, EXPECTATIONS})
WORST_PROCEDURES = 3
AGENCY_LINES = 8


@dataclass(frozen=True, slots=True)
class Figure:
    """An index with its sample: `value` is None when there is no answer at all."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    enough: bool = False


@dataclass(slots=True)
class ReportFigures:
    agency: str  # how the scope is named in the title
    start: date
    end: date
    min_sample: int
    threshold: float
    sipas: Figure
    factors: dict[int, Figure]
    ended: int = 0
    on_time: int = 0
    overdue_open: int = 0
    qd766: Qd766 | None = None
    invited: int = 0
    completed: int = 0
    worst: list[tuple[str, Figure]] = field(default_factory=list)
    expectations: list[str] = field(default_factory=list)
    by_agency: list[tuple[str, Figure]] = field(default_factory=list)
    channels: list[ChannelResponses] = field(default_factory=list)  # those with invitations
    paid: list[tuple[str, PaidMessages]] = field(default_factory=list)  # (agency name, month)


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _figure(row: pd.Series, *, n_column: str = "n_min", min_sample: int) -> Figure:
    value = _num(row.get("sipas", row.get("index")))
    n = int(row[n_column]) if not pd.isna(row[n_column]) else 0
    return Figure(
        value=value,
        n=n,
        low=_num(row.get("wilson_low")),
        high=_num(row.get("wilson_high")),
        enough=value is not None and n >= min_sample,
    )


def _questions(definitions: Sequence[dict[str, object]]) -> dict[str, Question]:
    """Every question ever asked, by code (later versions win a reused code)."""
    forms = [builtin(base) for base in FORMS]
    for definition in definitions:
        try:
            forms.append(Questionnaire.from_dict(dict(definition)))
        except QuestionnaireError:
            continue
    return {q.code: q for form in forms for q in form.questions}


async def gather(
    engine: AsyncEngine,
    *,
    scope: Sequence[str],
    agency: str,
    names: dict[str, str],
    when: Period,
    rule: IndexRule,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    threshold: float = 90.0,
    language: str = "vi",
    to_utc: Callable[[datetime], datetime] = lambda local: local,
) -> ReportFigures:
    """The figures of [when.start, when.end] for the agencies in `scope` only (`to_utc` turns
    local midnights into the naive UTC of service-recorded times)."""
    start, end = when.start, when.end
    questions = _questions(await head_views.questionnaire_definitions(engine))
    meta = {code: (q.factor, q.topic) for code, q in questions.items()}
    levels = await head_views.level_rows(engine, start, end, scope)
    counts = counts_from_levels(with_meta(levels, meta).drop(columns=["topic"]))
    counts["scope"] = "all"

    pooled = sipas_index(counts, "scope", rule, min_sample=min_sample)
    if pooled.empty:
        sipas, factors = Figure(None, 0), {f: Figure(None, 0) for f in FACTORS}
    else:
        row = pooled.iloc[0]
        sipas = _figure(row, min_sample=min_sample)
        per_factor = factor_indices(counts, "scope", rule, min_sample=min_sample)
        found = {
            int(r["factor"]): _figure(r, min_sample=min_sample) for _, r in per_factor.iterrows()
        }
        factors = {f: found.get(f, Figure(None, 0)) for f in FACTORS}
    figures = ReportFigures(
        agency=agency,
        start=start,
        end=end,
        min_sample=min_sample,
        threshold=threshold,
        sipas=sipas,
        factors=factors,
    )

    per_procedure = sipas_index(counts, "procedure_code", rule, min_sample=min_sample)
    worst = rank(per_procedure, "sipas", worst_first=True, limit=WORST_PROCEDURES)
    procedure = await head_views.procedure_names(engine, list(worst["procedure_code"]))
    figures.worst = [
        (
            procedure.get(str(r["procedure_code"]), str(r["procedure_code"])),
            _figure(r, min_sample=min_sample),
        )
        for _, r in worst.iterrows()
    ]
    per_agency = sipas_index(counts, "agency_code", rule, min_sample=min_sample)
    figures.by_agency = [
        (names.get(str(r["agency_code"]), str(r["agency_code"])), _figure(r, min_sample=min_sample))
        for _, r in per_agency.sort_values("agency_code").iterrows()
    ]

    cases = await head_views.case_rows(engine, start, end, scope)
    cases["scope"] = "all"
    summary = timeliness_summary(cases, start, end, "scope")
    if not summary.empty:
        first = summary.iloc[0]
        figures.ended = int(first["ended"])
        figures.on_time = int(first["early"]) + int(first["on_time"])
        figures.overdue_open = int(first["overdue_open"])

    codes = [code for code, q in questions.items() if q.topic in FEEDBACK_TOPICS]
    answers = await head_views.feedback_answers(engine, start, end, scope, codes)
    answers["topic"] = [meta[code][1] for code in answers["question_code"]]
    quality = qd766_table(cases, answers, start, end, "scope")
    if not quality.empty and not pd.isna(quality.iloc[0]["satisfaction_pct"]):
        figures.qd766 = Qd766(
            float(quality.iloc[0]["satisfaction_pct"]), float(quality.iloc[0]["score"])
        )
    low, high = (to_utc(bound) for bound in day_bounds(start, end))
    figures.invited, figures.completed = await head_views.invitations(engine, low, high, scope)
    by_channel = await channel_report.responses_by_channel(
        engine, low=low, high=high, agency_codes=scope
    )
    figures.channels = [figure for figure in by_channel if figure.invited]
    first_month, last_month = channel_report.month_span(start, end)
    paid = await channel_report.paid_messages(
        engine, first_month=first_month, last_month=last_month, agency_codes=scope
    )
    figures.paid = [(names.get(row.agency_code, row.agency_code), row) for row in paid]

    dated = answers[
        (answers["answered_at"].dt.normalize() >= pd.Timestamp(start))
        & (answers["answered_at"].dt.normalize() <= pd.Timestamp(end))
    ]
    ranking = expectation_ranking(dated)
    labels: dict[str, str] = {}
    for q in questions.values():
        if q.topic == EXPECTATIONS:
            for option in q.options:
                labels.setdefault(
                    option.code, option.text_en if language == "en" else option.text_vi
                )
    figures.expectations = [
        f"{labels.get(str(r['option']), str(r['option']))} ({round_half_up(r['share'], 0):.0f}%)"
        for _, r in ranking.head(3).iterrows()
    ]
    return figures


# -- reading --------------------------------------------------------------------------------------


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def channel_lines(figures: ReportFigures, language: str) -> list[str]:
    """The "by channel" section: each channel's response rate, then the ZNS messages and the
    billable Zalo OA replies per month and agency; nothing when there is neither."""

    def t(key: str, **params: object) -> str:
        return head_text(language, key, **params)

    lines: list[str] = []
    if figures.channels:
        lines.append(t("channels_title"))
        lines.extend(
            channel_line(language, c.channel, invited=c.invited, completed=c.completed)
            for c in figures.channels
        )
    for title, rows in (
        ("channels_zns", [(name, p.month, p.zns) for name, p in figures.paid if p.zns]),
        ("channels_oa", [(name, p.month, p.zalo_oa) for name, p in figures.paid if p.zalo_oa]),
    ):
        if not rows:
            continue
        lines.append(t(title))
        lines.extend(
            t("channels_paid_line", month=f"{month[5:]}/{month[:4]}", agency=name[:80], count=n)
            for name, month, n in rows[:AGENCY_LINES]
        )
        if len(rows) > AGENCY_LINES:
            lines.append(t("channels_more", count=len(rows) - AGENCY_LINES))
    return lines


def report_text(figures: ReportFigures, language: str) -> str:
    """The report as one message (under Telegram's 4096 characters)."""

    def t(key: str, **params: object) -> str:
        return head_text(language, key, **params)

    lines = [
        t("report_title", agency=figures.agency),
        t("period", start=_day(figures.start), end=_day(figures.end)),
        "",
    ]
    s = figures.sipas
    if s.n == 0:
        lines.append(t("sipas_none"))
    elif s.value is None:
        lines.append(t("sipas_partial", n=s.n))
    elif not s.enough:
        lines.append(t("sipas_small", n=s.n, min=figures.min_sample))
    else:
        lines.append(
            t("sipas", value=percent(s.value), n=s.n, low=percent(s.low), high=percent(s.high))
        )
    if s.n:
        lines.append(t("factors"))
        for number, f in figures.factors.items():
            name = factor_name(language, number)
            if f.value is None:
                lines.append(t("factor_none", name=name))
            elif not f.enough:
                lines.append(t("factor_small", name=name, n=f.n))
            else:
                lines.append(t("factor", name=name, value=percent(f.value), n=f.n))
    lines.append("")
    if figures.ended:
        on_time = 100.0 * figures.on_time / figures.ended
        lines.append(t("on_time", rate=percent(on_time), good=figures.on_time, ended=figures.ended))
    else:
        lines.append(t("on_time_none"))
    lines.append(t("overdue", count=figures.overdue_open))
    if figures.qd766 is not None:
        q = figures.qd766
        lines.append(t("qd766", pct=f"{q.satisfaction_pct:.2f}", score=f"{q.score:.2f}"))
    rate = response_rate(figures.invited, figures.completed)
    if rate is not None:
        lines.append(
            t(
                "response_rate",
                rate=percent(rate),
                completed=figures.completed,
                invited=figures.invited,
            )
        )
    lines.extend(channel_lines(figures, language))
    if s.n:
        if figures.worst:
            lines.append(t("worst"))
            lines.extend(
                t("worst_line", name=name[:80], value=percent(f.value), n=f.n)
                for name, f in figures.worst
            )
        else:
            lines.append(t("worst_none"))
    if figures.expectations:
        lines.append(t("expectations", items="; ".join(figures.expectations)))
    if len(figures.by_agency) > 1:
        lines.append(t("agencies"))
        for name, f in figures.by_agency[:AGENCY_LINES]:
            value = (
                t("agency_value", value=percent(f.value), n=f.n)
                if f.enough
                else t("agency_small", n=f.n)
            )
            lines.append(t("agency_line", name=name[:80], value=value))
        if len(figures.by_agency) > AGENCY_LINES:
            lines.append(t("agency_more", count=len(figures.by_agency) - AGENCY_LINES))
    return "\n".join(lines)[:4000]


def report_chart(figures: ReportFigures, language: str) -> bytes | None:
    """SIPAS and the factors with enough answers as bars; None when nothing is publishable."""
    if not figures.sipas.enough:
        return None
    bars = [
        Bar(
            "SIPAS",
            figures.sipas.value,
            figures.sipas.low,
            figures.sipas.high,
            f"n={figures.sipas.n}",
        )
    ]
    for number, f in figures.factors.items():
        shown = f.value if f.enough else None
        bars.append(
            Bar(
                factor_name(language, number),
                shown,
                f.low if f.enough else None,
                f.high if f.enough else None,
                f"n={f.n}",
            )
        )
    return factor_chart(
        bars,
        title=head_text(
            language,
            "chart_caption",
            agency=figures.agency[:60],
            start=_day(figures.start),
            end=_day(figures.end),
        ),
        axis_label=head_text(language, "chart_axis"),
        target=figures.threshold,
        target_label=head_text(language, "chart_target", value=f"{figures.threshold:g}"),
    )


__all__ = [
    "Figure",
    "ReportFigures",
    "channel_lines",
    "gather",
    "report_chart",
    "report_text",
]
