"""Read API for integrators (`GET /api/v1/cases/{MaHoSo}`) and the citizen's case page."""

from __future__ import annotations

import hmac
from datetime import datetime, tzinfo
from html import escape

from aiohttp import web

from bot.onestop.links import TOKEN_RE, token_hash
from bot.texts import CASE_PAGE, CASE_STATUS, TIMELINESS, VI
from bot.web.keys import CASES, INTAKE, LOCAL_NOW, SERVICES, SETTINGS, SURVEYS
from bot.web.responses import error, json_response
from bot.web.security import inline_style
from scoring.timeliness import classify
from storage.cases import CaseState

routes = web.RouteTableDef()


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return None if value is None else value.replace(tzinfo=tz).isoformat()


def _timeliness(case: CaseState, today: datetime) -> str:
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
            "timeliness": _timeliness(case, request.app[LOCAL_NOW]()),
            "events": case.events_count,
            "survey": {"status": summary[0], "answers": summary[1]},
        }
    )


_CSS = inline_style(
    "body{font-family:system-ui,sans-serif;margin:1.2rem;max-width:36rem;color:#1b1b1b}\n"
    "dt{color:#555;font-size:.9rem}dd{margin:0 0 .7rem 0;font-weight:600}\n"
    "a.btn{display:inline-block;background:#229ed9;color:#fff;padding:.7rem 1rem;\n"
    "border-radius:.5rem;text-decoration:none}"
)
_PAGE = (
    """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>"""
    + _CSS.replace("{", "{{").replace("}", "}}")
    + """</style></head>
<body><h1>{title}</h1>{content}</body></html>"""
)


@routes.get("/s/{token}")
async def case_page(request: web.Request) -> web.Response:
    """Show the citizen the case behind the link on their receipt."""
    text = CASE_PAGE[VI]
    token = request.match_info["token"]
    found = await request.app[CASES].by_link(token_hash(token)) if TOKEN_RE.match(token) else None
    if found is None:
        body = _PAGE.format(
            title=escape(text["not_found_title"]), content=f"<p>{escape(text['not_found'])}</p>"
        )
        return web.Response(text=body, status=404, content_type="text/html")
    case, procedure_name = found
    rows = [
        (text["case_code"], case.code),
        (text["procedure"], procedure_name),
        (text["status"], CASE_STATUS[VI].get(case.status, str(case.status))),
        (text["received"], case.received_at.strftime("%d/%m/%Y %H:%M")),
    ]
    if case.due_at:
        rows.append((text["promised"], case.due_at.strftime("%d/%m/%Y")))
    rows.append((text["timeliness"], TIMELINESS[VI][_timeliness(case, request.app[LOCAL_NOW]())]))
    content = (
        "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"
    )
    content += f"<p>{escape(text['survey_later'])}</p>"
    telegram = request.app[INTAKE].links(case.code, token)["telegram"]
    if telegram:
        content += f'<p><a class="btn" href="{escape(telegram)}">{escape(text["telegram"])}</a></p>'
    return web.Response(
        text=_PAGE.format(title=escape(text["title"]), content=content), content_type="text/html"
    )
