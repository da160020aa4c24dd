"""Per-channel figures of the reports: surveys invited and completed on each channel, and the
messages an agency pays for (ZNS template messages, billable Zalo OA replies) per month.

The channel of a survey is the channel of its chat (`chats.channel`) when it has one (a survey
handed from ZNS to a chat the citizen linked counts for that chat), else its `source` ("web"
for the web form, "zns" for older ZNS rows); imported paper surveys are not invitations and are
left out, as in `storage.head_views.invitations`. A survey counts in the period it was invited
in (naive UTC bounds), completed or not, so the rate is completed per invited.

Paid messages come from `billable_replies`, counted per agency and local month (`YYYY-MM`) when
they were sent; a month range compares those strings.

Every figure set is one statement, aggregated in SQL, built once at import; `agency_codes`
narrows it to a scope (an agency subtree) and `None` reads every agency (the admins' report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.channel_models import BillableReply
from storage.errors import translate_errors
from storage.models import Case, Chat, Survey

surveys_t = Survey.__table__  # type: ignore[attr-defined]
cases_t = Case.__table__  # type: ignore[attr-defined]
chats_t = Chat.__table__  # type: ignore[attr-defined]
billable_t = BillableReply.__table__  # type: ignore[attr-defined]

# Every channel a survey can be carried by, in the order reports list them.
CHANNELS: Final = ("telegram", "zalo_oa", "zalo_bot", "zns", "web")
ZNS: Final = "zns"
ZALO_OA: Final = "zalo_oa"
IMPORTED: Final = "import"


@dataclass(frozen=True, slots=True)
class ChannelResponses:
    """Surveys invited on a channel in a period and how many were completed (`agency_code`
    is set in per-agency rows only)."""

    channel: str
    invited: int
    completed: int
    agency_code: str = ""

    @property
    def rate(self) -> float | None:
        """Completed per invited, in per cent; None when nothing was invited."""
        return None if self.invited <= 0 else 100.0 * self.completed / self.invited


@dataclass(frozen=True, slots=True)
class PaidMessages:
    """What an agency pays for in one month (`YYYY-MM`, local): ZNS messages sent and Zalo OA
    replies sent inside a billable window (`agency_code` "" for a chat linked to no case)."""

    agency_code: str
    month: str
    zns: int
    zalo_oa: int


def month_span(start: date, end: date) -> tuple[str, str]:
    """The first and last month (`YYYY-MM`) a period of local days touches."""
    return f"{start:%Y-%m}", f"{end:%Y-%m}"


def channel_order(channel: str) -> tuple[int, str]:
    """Sort key: the channels of `CHANNELS` in their order, then any other by name."""
    return (CHANNELS.index(channel), "") if channel in CHANNELS else (len(CHANNELS), channel)


# -- statements ---------------------------------------------------------------------------------

_CHANNEL = func.coalesce(chats_t.c.channel, surveys_t.c.source)
_INVITED = func.count()
_COMPLETED = func.count().filter(surveys_t.c.status == "completed")
_SURVEYS = surveys_t.join(cases_t, cases_t.c.code == surveys_t.c.case_code).outerjoin(
    chats_t, chats_t.c.id == surveys_t.c.chat_id
)
_IN_PERIOD = (
    surveys_t.c.source != IMPORTED,
    surveys_t.c.invited_at >= bindparam("low"),
    surveys_t.c.invited_at < bindparam("high"),
)
_IN_SCOPE = cases_t.c.agency_code.in_(bindparam("agency_codes", expanding=True))


def _responses(*, by_agency: bool, scoped: bool) -> Select[Any]:
    keys: list[Any] = [cases_t.c.agency_code] if by_agency else []
    statement = (
        select(*keys, _CHANNEL.label("channel"), _INVITED, _COMPLETED)
        .select_from(_SURVEYS)
        .where(*_IN_PERIOD)
    )
    if scoped:
        statement = statement.where(_IN_SCOPE)
    return statement.group_by(*keys, _CHANNEL)


_BY_CHANNEL = _responses(by_agency=False, scoped=True)
_BY_AGENCY = {scoped: _responses(by_agency=True, scoped=scoped) for scoped in (True, False)}


def _paid(*, scoped: bool) -> Select[Any]:
    def of(channel: str) -> Any:
        return func.coalesce(
            func.sum(case((billable_t.c.channel == channel, billable_t.c.count), else_=0)), 0
        )

    statement = select(billable_t.c.agency_code, billable_t.c.month, of(ZNS), of(ZALO_OA)).where(
        billable_t.c.channel.in_((ZNS, ZALO_OA)),
        billable_t.c.month >= bindparam("first_month"),
        billable_t.c.month <= bindparam("last_month"),
    )
    if scoped:
        statement = statement.where(
            billable_t.c.agency_code.in_(bindparam("agency_codes", expanding=True))
        )
    return statement.group_by(billable_t.c.agency_code, billable_t.c.month).order_by(
        billable_t.c.month, billable_t.c.agency_code
    )


_PAID = {scoped: _paid(scoped=scoped) for scoped in (True, False)}


async def _rows(engine: AsyncEngine, statement: Any, params: dict[str, Any]) -> list[Any]:
    with translate_errors():
        async with engine.connect() as conn:
            return list((await conn.execute(statement, params)).all())


# -- reads ----------------------------------------------------------------------------------------


async def responses_by_channel(
    engine: AsyncEngine, *, low: datetime, high: datetime, agency_codes: Sequence[str]
) -> list[ChannelResponses]:
    """Surveys invited in [low, high) (naive UTC) on these agencies' cases and how many were
    completed, per channel: every channel of `CHANNELS` in order (zeros included), then any
    other channel found, by name."""
    if not agency_codes:
        found: dict[str, ChannelResponses] = {}
    else:
        params = {"low": low, "high": high, "agency_codes": list(agency_codes)}
        found = {
            str(row[0]): ChannelResponses(str(row[0]), int(row[1] or 0), int(row[2] or 0))
            for row in await _rows(engine, _BY_CHANNEL, params)
        }
    for channel in CHANNELS:
        found.setdefault(channel, ChannelResponses(channel, 0, 0))
    return sorted(found.values(), key=lambda figure: channel_order(figure.channel))


async def responses_by_agency(
    engine: AsyncEngine,
    *,
    low: datetime,
    high: datetime,
    agency_codes: Sequence[str] | None = None,
) -> list[ChannelResponses]:
    """The same figures per agency and channel, for the agencies with an invitation in the
    period (of `agency_codes`, or of all when None), by agency code then channel."""
    if agency_codes is not None and not agency_codes:
        return []
    params: dict[str, Any] = {"low": low, "high": high}
    if agency_codes is not None:
        params["agency_codes"] = list(agency_codes)
    rows = await _rows(engine, _BY_AGENCY[agency_codes is not None], params)
    figures = [
        ChannelResponses(str(row[1]), int(row[2] or 0), int(row[3] or 0), agency_code=str(row[0]))
        for row in rows
    ]
    return sorted(figures, key=lambda f: (f.agency_code, *channel_order(f.channel)))


async def paid_messages(
    engine: AsyncEngine,
    *,
    first_month: str,
    last_month: str,
    agency_codes: Sequence[str] | None = None,
) -> list[PaidMessages]:
    """ZNS messages sent and billable Zalo OA replies per agency and month in
    [first_month, last_month] (`YYYY-MM`), of `agency_codes` or of all when None, by month then
    agency code."""
    if agency_codes is not None and not agency_codes:
        return []
    params: dict[str, Any] = {"first_month": first_month, "last_month": last_month}
    if agency_codes is not None:
        params["agency_codes"] = list(agency_codes)
    rows = await _rows(engine, _PAID[agency_codes is not None], params)
    return [PaidMessages(str(row[0]), str(row[1]), int(row[2]), int(row[3])) for row in rows]


__all__ = [
    "CHANNELS",
    "ChannelResponses",
    "PaidMessages",
    "channel_order",
    "month_span",
    "paid_messages",
    "responses_by_agency",
    "responses_by_channel",
]
