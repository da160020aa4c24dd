"""The approved ZNS templates by purpose, and the parameters each is sent with.

`ZALO_ZNS_TEMPLATES` names one template per purpose: `rating=<id>,invite=<id>,apology=<id>,
result_ready=<id>` (any subset; a purpose without a template is never sent by ZNS):

- `rating`: the service-rating template (the citizen's stars are the case's response);
- `invite`: a button to the web survey, for the survey when no rating template is set;
- `apology`: the case's promised date moved;
- `result_ready`: the result can be collected.

Every template takes `ma_ho_so` (the case code), `ten_thu_tuc` (the procedure),
`ten_co_quan` (the agency), and:

- `rating`: `ngay_tra`, the local day the result was handed over (`dd/MM/yyyy`);
- `invite`: `ma_khao_sat`, the case's web-link token: the template's button opens
  `{SIPAS_PUBLIC_URL}/s/<ma_khao_sat>` (the URL is approved with the template at Zalo);
- `apology` (domain.md §4, the fields provinces already send): `ten_nguoi_nop` (the
  applicant), `ngay_nhan` (received), `ngay_hen_cu` / `ngay_hen_moi` (the old and the new
  promised day, `dd/MM/yyyy`), `don_vi` (the unit handling it), `ly_do` (the reason).

Values are clipped to Zalo's parameter lengths and never empty; links and phone numbers never
go into them (Zalo forbids both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

RATING = "rating"
INVITE = "invite"
APOLOGY = "apology"
RESULT_READY = "result_ready"
PURPOSES = (RATING, INVITE, APOLOGY, RESULT_READY)

# The most characters Zalo takes for each parameter (a template's own limits may be lower:
# Zalo then refuses the send with -132, logged with the purpose).
PARAM_LIMITS = {
    "ma_ho_so": 30,
    "ten_thu_tuc": 200,
    "ten_co_quan": 200,
    "ngay_tra": 20,
    "ma_khao_sat": 30,
    "ten_nguoi_nop": 30,
    "ngay_nhan": 20,
    "ngay_hen_cu": 20,
    "ngay_hen_moi": 20,
    "don_vi": 200,
    "ly_do": 200,
}
# What an apology says where the one-stop system left a field out.
NO_NAME = "Ông/Bà"
NO_DATE = "chưa có"
NO_REASON = "cần thêm thời gian xử lý"
# The apology's parameters: (template parameter, outbox payload key, text when missing).
APOLOGY_FIELDS = (
    ("ten_nguoi_nop", "name", NO_NAME),
    ("ngay_nhan", "received", NO_DATE),
    ("ngay_hen_cu", "old_due", NO_DATE),
    ("ngay_hen_moi", "new_due", NO_DATE),
    ("don_vi", "unit", ""),
    ("ly_do", "reason", NO_REASON),
)
APOLOGY_DETAILS = tuple(key for _, key, _ in APOLOGY_FIELDS)
_TEMPLATE_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")


class TemplateSettingError(ValueError):
    """`ZALO_ZNS_TEMPLATES` cannot be read."""


def parse_templates(value: str) -> dict[str, str]:
    """`rating=410001, invite=410002` → {"rating": "410001", "invite": "410002"}; empty →
    {}; raises `TemplateSettingError` naming what is wrong."""
    found: dict[str, str] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        purpose, sep, template_id = (piece.strip() for piece in part.partition("="))
        if not sep or purpose not in PURPOSES:
            raise TemplateSettingError(
                f"ZALO_ZNS_TEMPLATES: {part!r} is not <purpose>=<template id> with a purpose "
                f"among {', '.join(PURPOSES)}"
            )
        if not _TEMPLATE_ID.fullmatch(template_id):
            raise TemplateSettingError(f"ZALO_ZNS_TEMPLATES: {purpose} has no valid template id")
        if purpose in found:
            raise TemplateSettingError(f"ZALO_ZNS_TEMPLATES names {purpose} twice")
        found[purpose] = template_id
    return found


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a template says about a case (nothing about the applicant)."""

    code: str
    procedure_name: str
    agency_name: str
    agency_code: str
    # Local wall-clock times from the one-stop system: when the result was handed over, the
    # case's end event, the end of processing.
    returned_at: datetime | None = None
    end_event_at: datetime | None = None
    finished_at: datetime | None = None
    web_token: str | None = None  # the token of the case's web link (for `invite`)

    def handed_over(self, today: date) -> date:
        """The day the result was handed over (the end event's or processing's day when the
        one-stop system sent no NgayTra; today when it sent neither)."""
        for moment in (self.returned_at, self.end_event_at, self.finished_at):
            if moment is not None:
                return moment.date()
        return today


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _day(value: object) -> str | None:
    """An ISO date or date-time as `dd/MM/yyyy` (None when it is not one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return None


def template_data(
    purpose: str,
    case: CaseFacts,
    *,
    today: date,
    details: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The `template_data` of `purpose` for `case` (every value a non-empty string);
    `details` are an apology's (the outbox payload's `APOLOGY_DETAILS`). An `invite` needs
    `case.web_token`: ValueError without it."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown ZNS purpose {purpose!r}")
    agency = case.agency_name or case.agency_code
    data = {
        "ma_ho_so": _clip(case.code, PARAM_LIMITS["ma_ho_so"]),
        "ten_thu_tuc": _clip(case.procedure_name or case.code, PARAM_LIMITS["ten_thu_tuc"]),
        "ten_co_quan": _clip(agency, PARAM_LIMITS["ten_co_quan"]),
    }
    if purpose == RATING:
        data["ngay_tra"] = case.handed_over(today).strftime("%d/%m/%Y")
    elif purpose == INVITE:
        if not case.web_token:
            raise ValueError("an invite needs the case's web link")
        data["ma_khao_sat"] = case.web_token
    elif purpose == APOLOGY:
        given = details or {}
        for name, key, missing in APOLOGY_FIELDS:
            raw = given.get(key)
            value = _day(raw) if name.startswith("ngay_") else raw
            text = value if isinstance(value, str) and value.strip() else missing or agency
            data[name] = _clip(text, PARAM_LIMITS[name])
    return data


@dataclass(frozen=True, slots=True)
class ZnsTemplates:
    """The configured template id of each purpose."""

    ids: Mapping[str, str]

    @classmethod
    def parse(cls, value: str) -> ZnsTemplates:
        return cls(parse_templates(value))

    def __bool__(self) -> bool:
        return bool(self.ids)

    def get(self, purpose: str) -> str | None:
        return self.ids.get(purpose)

    @property
    def survey_purpose(self) -> str | None:
        """How a survey goes by ZNS: the rating template, else the web survey's invitation,
        else not at all."""
        for purpose in (RATING, INVITE):
            if purpose in self.ids:
                return purpose
        return None


def purpose_of(
    kind: str,
    payload: Mapping[str, Any],
    templates: ZnsTemplates,
    survey_purpose: str | None = None,
) -> str | None:
    """The purpose an outbox row on the ZNS channel is sent for (None: ZNS cannot carry it).

    `zns` rows name it (`payload.purpose`); a survey invitation or reminder queued on a ZNS
    chat is the survey's template again (`survey_purpose`, the agency's choice, else the
    default); a result-ready notice and an apology have theirs."""
    if kind == "zns":
        purpose = payload.get("purpose")
        return purpose if isinstance(purpose, str) and purpose in PURPOSES else None
    if kind == "question" and payload.get("intro") in ("invite", "reminder"):
        return survey_purpose or templates.survey_purpose
    if kind == "notice" and payload.get("status") == 9:
        return RESULT_READY
    if kind == "apology":
        return APOLOGY
    return None


__all__ = [
    "APOLOGY",
    "APOLOGY_DETAILS",
    "INVITE",
    "PURPOSES",
    "RATING",
    "RESULT_READY",
    "CaseFacts",
    "TemplateSettingError",
    "ZnsTemplates",
    "parse_templates",
    "purpose_of",
    "template_data",
]
