"""Read API for integrators (`GET /api/v1/cases/{MaHoSo}`); the citizen's page behind the same
case is `bot.web.survey_page`."""

from __future__ import annotations

import hmac
from datetime import datetime, tzinfo

from aiohttp import web

from bot.web.keys import CASES, LOCAL_NOW, SERVICES, SETTINGS, SURVEYS
from bot.web.responses import error, json_response
from scoring.timeliness_rule import classify
from storage.cases import CaseState

routes = web.RouteTableDef()


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return None if value is None else value.replace(tzinfo=tz).isoformat()


def case_timeliness(case: CaseState, today: datetime) -> str:
    """open, overdue, early, on_time or late, as of local `today`."""
    return classify(
        ended=case.ended_at.date() if case.ended_at else None,
        due=case.due_at.date() if case.due_at else None,
        today=today.date(),
    )


def authorized(request: web.Request) -> bool:
    token = request.app[SETTINGS].api_token
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(value.strip().encode(), token.encode())
    )


@routes.get("/api/v1/cases/{code}")
async def get_case(request: web.Request) -> web.Response:
    """Show a case's state, timeliness and survey progress to an integrator."""
    if not authorized(request):
        return error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    case = await request.app[CASES].get(request.match_info["code"])
    if case is None:
        return error(404, "unknown case")
    tz = request.app[SETTINGS].tz
    surveys = request.app[SURVEYS]
    summary = await surveys.surveys.survey_summary(case.code)
    if summary is None:
        info = await request.app[SERVICES].linking.links.case_by_code(case.code)
        linked = info is not None and info.linked_chat is not None
        summary = ("linked" if linked else "none", 0)
    return json_response(
        {
            "MaHoSo": case.code,
            "MaCoQuan": case.agency_code,
            "MaTTHC": case.procedure_code,
            "TrangThaiHoSo": case.status,
            "NgayTiepNhan": _iso(case.received_at, tz),
            "NgayHenTra": _iso(case.due_at, tz),
            "NgayKetThucXuLy": _iso(case.ended_at, tz),
            "timeliness": case_timeliness(case, request.app[LOCAL_NOW]()),
            "events": case.events_count,
            "survey": {"status": summary[0], "answers": summary[1]},
        }
    )
