"""`GET/POST /s/{token}`: the page behind the receipt's link (interfaces.md, "Web survey").

Before the survey status it is the case page; from it until expiry, the survey form; once the
case has a response from any channel, a thank-you page. A POST needs the token's CSRF field
(else 403, nothing recorded), is `application/x-www-form-urlencoded` of at most `MAX_BODY`
bytes, and answers 303 to this same page (now the thank-you page) when it completed the
survey, 400 with the form and the reasons when a value is not the questionnaire's, 200 with
the form when required answers are missing or a "why?" question is still to be asked.
Requests are limited per token and per address (`bot.web.ratelimit`): 429 with a page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from bot.onestop.links import TOKEN_RE, token_hash
from bot.survey.web_form import (
    CLOSED,
    EXPIRED,
    FORM,
    THANKS,
    Posted,
    Submitted,
    WebSurveys,
    WebView,
    read_posted,
)
from bot.web.case_routes import case_timeliness
from bot.web.csrf import FIELD as CSRF_FIELD
from bot.web.csrf import csrf_valid, csrf_value
from bot.web.keys import CASES, ENGINE, INTAKE, LOCAL_NOW, SETTINGS, SURVEYS
from bot.web.pages import (
    CaseFacts,
    Follow,
    FormPage,
    bad_form_page,
    case_page,
    closed_page,
    csp,
    expired_page,
    forbidden_page,
    lang_query,
    language,
    not_found_page,
    slow_down_page,
    survey_form,
    thanks_page,
)
from bot.web.ratelimit import PageLimits
from storage.cases import CaseState
from storage.web_survey_driver import WebSurveyDriver
from storage.web_surveys import WebCaseState, WebSurveyStore

routes = web.RouteTableDef()
LIMITS = web.AppKey("web_page_limits", PageLimits)
WEB_SURVEYS = web.AppKey("web_surveys", WebSurveys)
DRIVER = web.AppKey("web_survey_driver", WebSurveyDriver)
MAX_BODY = 64 * 1024
MAX_FIELDS = 400
FORM_TYPE = "application/x-www-form-urlencoded"


def install(app: web.Application) -> None:
    """Add the page's routes, its request limits and its service (made once the survey
    service exists: after the application's other resources have started)."""
    app.add_routes(routes)
    app[LIMITS] = PageLimits()
    # Startup hooks run after every cleanup context has started: the survey service exists.
    app.on_startup.append(_service)


async def _service(app: web.Application) -> None:
    surveys = app[SURVEYS]
    driver = WebSurveyDriver(
        app[ENGINE], key_ids=app[SETTINGS].key_ring.ids, statuses=surveys.survey_statuses
    )
    if driver.usable:
        # The page's statements on the raw driver (one read, one write transaction).
        app[DRIVER] = driver
        app.on_cleanup.append(_close_driver)
        app[WEB_SURVEYS] = WebSurveys(survey=surveys, store=driver)
    else:  # an in-memory SQLite database: only the engine's connection sees it
        app[WEB_SURVEYS] = WebSurveys(survey=surveys, store=WebSurveyStore(app[ENGINE]))


async def _close_driver(app: web.Application) -> None:
    await app[DRIVER].close()


def _html(
    body: str, *, status: int = 200, headers: dict[str, str] | None = None, script: bool = False
) -> web.Response:
    """A page; `script` when it holds the one hashed script (the policy allows it then only)."""
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    if script:
        response.headers["Content-Security-Policy"] = csp()
    if headers:
        response.headers.update(headers)
    return response


async def _case(
    request: web.Request,
) -> tuple[tuple[str, CaseState, str], WebCaseState | None] | None:
    """The token in the path, its case and the case's procedure name, and the case's survey
    state when it was read with them (one statement on the raw driver); None if unknown."""
    token = request.match_info["token"]
    if not TOKEN_RE.match(token):
        return None
    driver = request.app.get(DRIVER)
    if driver is not None:
        page = await driver.page(token_hash(token))
        return None if page is None else ((token, page.case, page.procedure), page.state)
    found = await request.app[CASES].by_link(token_hash(token))
    return None if found is None else ((token, found[0], found[1]), None)


def _limited(request: web.Request, lang: str) -> web.Response | None:
    wait = request.app[LIMITS].check(request.match_info["token"], request.remote or "")
    if not wait:
        return None
    return _html(slow_down_page(lang), status=429, headers={"Retry-After": str(int(wait) + 1)})


def _follow(request: web.Request, case: CaseState, token: str) -> Follow:
    """The chat links of the case, and its link code when a chat without deep links is on."""
    settings = request.app[SETTINGS]
    links = request.app[INTAKE].links(case.code, token)
    code = None
    if settings.typed_code_channels:
        keys = settings.key_ring
        kid = next((k for k in keys.ids if keys.token(case.code, k) == token), None)
        code = None if kid is None else keys.link_code(case.code, kid)
    return Follow(telegram=links["telegram"], zalo=links["zalo"], link_code=code)


def _render(
    request: web.Request,
    lang: str,
    found: tuple[str, CaseState, str],
    view: WebView,
    submitted: Submitted | None = None,
    posted: Posted | None = None,
) -> web.Response:
    token, case, procedure = found
    posting = submitted is not None
    if view.kind == THANKS:
        return _html(thanks_page(lang, case.code, again=posting))
    if view.kind == EXPIRED:
        return _html(expired_page(lang, case.code), status=409 if posting else 200)
    if view.kind == CLOSED:
        return _html(closed_page(lang, case.code), status=409 if posting else 200)
    if view.kind == FORM and view.form is not None:
        checked = submitted.review if submitted else None
        data = FormPage(
            case_code=case.code,
            procedure=procedure,
            form=view.form,
            csrf=csrf_value(request.app[SETTINGS].key_ring, token),
            stored=view.stored,
            posted=posted or Posted({}),
            review=checked,
            step_two=bool(checked and not checked.errors and not checked.missing),
        )
        status = 400 if checked and checked.errors else 200
        return _html(survey_form(lang, data), status=status, script=not data.step_two)
    facts = CaseFacts(
        code=case.code,
        procedure=procedure,
        status=case.status,
        received_at=case.received_at,
        due_at=case.due_at,
        timeliness=case_timeliness(case, request.app[LOCAL_NOW]()),
    )
    page = case_page(lang, facts, _follow(request, case, token))
    return _html(page, status=409 if posting else 200)


@routes.get("/s/{token}")
async def show(request: web.Request) -> web.Response:
    """The case page, the survey, or the thank-you page, as the case stands."""
    lang = language(request.query.get("lang"))
    limited = _limited(request, lang)
    if limited is not None:
        return limited
    looked_up = await _case(request)
    if looked_up is None:
        return _html(not_found_page(lang), status=404)
    found, state = looked_up
    case = found[1]
    view = await request.app[WEB_SURVEYS].view(case.code, case.status, state=state)
    return _render(request, lang, found, view)


@routes.post("/s/{token}")
async def answer(request: web.Request) -> web.StreamResponse:
    """Record a submitted survey form (all of it, or nothing)."""
    lang = language(request.query.get("lang"))
    limited = _limited(request, lang)
    if limited is not None:
        return limited
    looked_up = await _case(request)
    if looked_up is None:
        return _html(not_found_page(lang), status=404)
    found, state = looked_up
    if request.content_type != FORM_TYPE:
        return _html(bad_form_page(lang), status=415)
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _html(bad_form_page(lang), status=413)
    try:
        body = await request.read()
    except (web.RequestPayloadError, ConnectionError):
        # The citizen's phone dropped the connection mid-upload: nothing was recorded.
        return _html(bad_form_page(lang), status=400)
    if len(body) > MAX_BODY:
        return _html(bad_form_page(lang), status=413)
    try:
        fields = parse_qsl(
            body.decode("ascii", "replace"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:
        return _html(bad_form_page(lang), status=400)
    token, case, _procedure = found
    given = [value for name, value in fields if name == CSRF_FIELD]
    if len(given) != 1 or not csrf_valid(request.app[SETTINGS].key_ring, token, given[0]):
        return _html(forbidden_page(lang), status=403)
    posted = read_posted(fields)
    submitted = await request.app[WEB_SURVEYS].submit(case.code, case.status, posted, state=state)
    if submitted.recorded:
        raise web.HTTPSeeOther(f"/s/{token}{lang_query(lang)}")
    return _render(request, lang, found, submitted.view, submitted, posted)
