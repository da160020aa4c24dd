"""`GET /api/v1/questionnaire`: the active questionnaire, for the vendor's systems."""

from __future__ import annotations

from aiohttp import web

from bot.web.case_routes import authorized
from bot.web.keys import SURVEYS
from bot.web.responses import error, json_response

routes = web.RouteTableDef()


@routes.get("/api/v1/questionnaire")
async def questionnaire(request: web.Request) -> web.Response:
    """Show the active questionnaire in asking order (branch questions marked)."""
    if not authorized(request):
        return error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        form = await request.app[SURVEYS].forms.active()
    except LookupError:
        return error(404, "no active questionnaire")
    return json_response(
        {
            "version": form.version,
            "base": form.base,
            "questions": [
                {
                    "code": q.code,
                    "factor": q.factor,
                    "kind": q.kind,
                    "topic": q.topic,
                    "text_vi": q.text_vi,
                    "text_en": q.text_en,
                    "required": q.required,
                    "branch": q.is_branch,
                    "after_low_in_factor": q.after_low_in_factor,
                    "options": [
                        {"code": o.code, "text_vi": o.text_vi, "text_en": o.text_en}
                        for o in q.options
                    ],
                    "max_choices": q.max_choices,
                }
                for q in form.questions
            ],
        }
    )
