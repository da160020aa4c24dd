"""JSON control API of the fake Telegram server, mounted under `/_fake/`.

Lets a benchmark or another process drive the simulated users and inspect what the bot did,
over plain HTTP. Every answer is `{"ok": true, "result": ...}`, or `{"ok": false, "error":
"..."}` with 400 (bad input), 404 (unknown message/button) or 408 (a wait timed out).

Routes (user_id is the private chat id; bodies are JSON objects, all fields optional unless
shown):

    GET  /_fake/health                           → "ok"
    GET  /_fake/state                            → counts, limits, faults, webhook
    POST /_fake/reset                            → forget everything but the configuration
    POST /_fake/users                            {"user_id", "first_name", "last_name",
                                                  "username", "language_code"} → profile
    POST /_fake/users/{id}/text                  {"text", "first_name", "language_code"} → Update
    POST /_fake/users/{id}/command               {"command", "payload"} → Update
    POST /_fake/users/{id}/press                 {"message_id", "callback_data"} or
                                                 {"message_id"?, "label"} (default: the last
                                                 bot message) → Update
    POST /_fake/users/{id}/contact               {"phone_number", "contact_user_id"} → Update
    POST /_fake/users/{id}/sticker               {"emoji"} → Update
    POST /_fake/users/{id}/photo                 {"caption", "width", "height"} → Update
    POST /_fake/users/{id}/block                 {"notify": true}
    POST /_fake/users/{id}/unblock               {"notify": true}
    POST /_fake/users/{id}/deactivate
    POST /_fake/inject                           [{"op": "text"|"command"|"press"|"contact"|
                                                   "sticker"|"photo"|"block"|"unblock",
                                                   "user_id": N, ...same fields}, ...]
                                                 → list of results, in order
    POST /_fake/fail_next                        {"method", "count", "status", "retry_after",
                                                  "chat_id", "description", "delay", "execute"}
    POST /_fake/fail_rate                        {"method", "rate", "status", "retry_after",
                                                  "seed", "chat_id", "description", "delay"}
    POST /_fake/clear_faults                     {"method"}
    POST /_fake/limits                           {"global_rate", "per_chat_burst",
                                                  "per_chat_rate", "rate_window", "enforce",
                                                  "methods"}
    GET  /_fake/messages?chat_id=N[&include_deleted=1]   bot → user messages (all chats
                                                 without chat_id)
    GET  /_fake/messages/wait?chat_id=N&contains=..&button=..&timeout=10[&consume=0]
    GET  /_fake/history?chat_id=N                both directions
    GET  /_fake/calls[?method=sendMessage][&chat_id=N][&since=<index>]
    GET  /_fake/violations[?since=<index>]
    GET  /_fake/sent_times[?chat_id=N]
    GET  /_fake/updates                          pending (unconfirmed) updates
    GET  /_fake/webhook_deliveries
    GET  /_fake/callback_queries
    GET  /_fake/chat_actions
    GET  /_fake/commands[?scope=default|all_private_chats|chat:<id>][&language_code=vi]
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .telegram_api import FakeTelegram

Route = Callable[[web.Request], Awaitable[web.Response]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _ok(result: Any) -> web.Response:
    body = json.dumps({"ok": True, "result": result}, ensure_ascii=False, default=str)
    return web.Response(body=body.encode("utf-8"), content_type="application/json")


def _fail(status: int, message: str) -> web.Response:
    body = json.dumps({"ok": False, "error": message}, ensure_ascii=False)
    return web.Response(status=status, body=body.encode("utf-8"), content_type="application/json")


async def _body(request: web.Request) -> Any:
    if not request.body_exists:
        return {}
    try:
        return await request.json()
    except ValueError as exc:
        raise ControlError(400, f"body is not JSON: {exc}") from None


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


def _flag(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def add_control_routes(app: web.Application, fake: FakeTelegram) -> None:
    """Mount the control API of `fake` on `app`."""

    def guarded(route: Route) -> Route:
        async def wrapper(request: web.Request) -> web.Response:
            try:
                return await route(request)
            except ControlError as exc:
                return _fail(exc.status, exc.message)
            except LookupError as exc:
                return _fail(404, str(exc))
            except TimeoutError as exc:
                return _fail(408, str(exc))
            except (ValueError, TypeError, KeyError) as exc:
                return _fail(400, f"{type(exc).__name__}: {exc}")

        return wrapper

    def act(op: str, user_id: int, body: dict[str, Any]) -> Any:
        if op == "text":
            return fake.user_sends_text(
                user_id, str(body["text"]), body.get("first_name"), body.get("language_code")
            )
        if op == "command":
            return fake.user_sends_command(
                user_id,
                str(body.get("command", "/start")),
                body.get("payload"),
                body.get("first_name"),
                body.get("language_code"),
            )
        if op == "press":
            message_id = body.get("message_id")
            if message_id is None:
                last = fake.last_message_to(user_id)
                if last is None:
                    raise LookupError(f"no bot message in chat {user_id}")
                message_id = last.message_id
            if "label" in body:
                return fake.press_button(user_id, int(message_id), str(body["label"]))
            return fake.user_presses(
                user_id,
                int(message_id),
                str(body["callback_data"]),
                strict=_flag(body.get("strict"), True),
            )
        if op == "contact":
            contact_user = body.get("contact_user_id")
            return fake.user_shares_contact(
                user_id,
                str(body["phone_number"]),
                int(contact_user) if contact_user is not None else None,
                first_name=body.get("first_name"),
                omit_user_id=_flag(body.get("omit_user_id")),
            )
        if op == "sticker":
            return fake.user_sends_sticker(user_id, body.get("emoji", "👍"))
        if op == "photo":
            return fake.user_sends_photo(
                user_id,
                body.get("caption"),
                int(body.get("width", 1280)),
                int(body.get("height", 960)),
            )
        if op == "block":
            fake.block(user_id, notify=_flag(body.get("notify"), True))
            return True
        if op == "unblock":
            fake.unblock(user_id, notify=_flag(body.get("notify"), True))
            return True
        if op == "deactivate":
            fake.deactivate(user_id)
            return True
        raise ControlError(400, f"unknown op {op!r}")

    async def health(request: web.Request) -> web.Response:
        return _ok("ok")

    async def state(request: web.Request) -> web.Response:
        return _ok(fake.state())

    async def reset(request: web.Request) -> web.Response:
        fake.reset()
        return _ok(True)

    async def add_user(request: web.Request) -> web.Response:
        body = await _body(request)
        profile = fake.add_user(
            int(body["user_id"]),
            body.get("first_name"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
        )
        return _ok(profile.user_json())

    async def user_action(request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        user_id = int(request.match_info["user_id"])
        return _ok(act(request.match_info["op"], user_id, body))

    async def inject(request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body, list):
            raise ControlError(400, "body must be a JSON array of actions")
        results = []
        for item in body:
            if not isinstance(item, dict) or "op" not in item or "user_id" not in item:
                raise ControlError(400, f"each action needs op and user_id: {item!r}")
            results.append(act(str(item["op"]), int(item["user_id"]), item))
        return _ok(results)

    async def fail_next(request: web.Request) -> web.Response:
        body = await _body(request)
        fake.fail_next(
            str(body.get("method", "*")),
            int(body.get("count", 1)),
            body.get("status", 429),
            int(body.get("retry_after", 3)),
            body.get("chat_id"),
            description=body.get("description"),
            delay=body.get("delay"),
            execute=_flag(body.get("execute")),
        )
        return _ok(fake.faults)

    async def fail_rate(request: web.Request) -> web.Response:
        body = await _body(request)
        fake.fail_rate(
            str(body.get("method", "*")),
            float(body.get("rate", 0.05)),
            body.get("status", 429),
            int(body.get("retry_after", 1)),
            body.get("seed"),
            chat_id=body.get("chat_id"),
            description=body.get("description"),
            delay=body.get("delay"),
            execute=_flag(body.get("execute")),
        )
        return _ok(fake.faults)

    async def clear_faults(request: web.Request) -> web.Response:
        body = await _body(request)
        fake.clear_faults(body.get("method"))
        return _ok(fake.faults)

    async def limits(request: web.Request) -> web.Response:
        body = await _body(request)
        allowed = {"global_rate", "per_chat_burst", "per_chat_rate", "rate_window", "enforce"}
        changes = {k: v for k, v in body.items() if k in allowed}
        if "methods" in body:
            changes["methods"] = list(body["methods"])
        fake.set_limits(**changes)
        return _ok(fake.state()["limits"])

    async def messages(request: web.Request) -> web.Response:
        chat_id = _query_int(request, "chat_id")
        include_deleted = _flag(request.query.get("include_deleted"))
        if chat_id is None:
            found = fake.all_sent_messages(include_deleted=include_deleted)
        else:
            found = fake.messages_to(chat_id, include_deleted=include_deleted)
        return _ok([m.to_json() for m in found])

    async def wait_message(request: web.Request) -> web.Response:
        chat_id = _query_int(request, "chat_id")
        if chat_id is None:
            raise ControlError(400, "chat_id is required")
        message = await fake.wait_for_message(
            chat_id,
            timeout=float(request.query.get("timeout", 10)),
            contains=request.query.get("contains"),
            button=request.query.get("button"),
            consume=_flag(request.query.get("consume"), True),
        )
        return _ok(message.to_json())

    async def history(request: web.Request) -> web.Response:
        chat_id = _query_int(request, "chat_id")
        if chat_id is None:
            raise ControlError(400, "chat_id is required")
        return _ok([m.to_json() for m in fake.history(chat_id)])

    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method")
        chat_id = _query_int(request, "chat_id")
        since = _query_int(request, "since") or 0
        selected = fake.calls[since:]
        if method:
            name = fake._canonical(method)
            selected = [c for c in selected if c.method == name]
        if chat_id is not None:
            selected = [c for c in selected if c.chat_id == chat_id]
        return _ok([c.to_json() for c in selected])

    async def violations(request: web.Request) -> web.Response:
        since = _query_int(request, "since") or 0
        return _ok([v.to_json() for v in fake.violations[since:]])

    async def sent_times(request: web.Request) -> web.Response:
        return _ok(fake.sent_times(_query_int(request, "chat_id")))

    async def updates(request: web.Request) -> web.Response:
        return _ok(fake.pending_updates)

    async def deliveries(request: web.Request) -> web.Response:
        return _ok([d.to_json() for d in fake.webhook_deliveries])

    async def callback_queries(request: web.Request) -> web.Response:
        return _ok([q.to_json() for q in fake.callback_queries])

    async def chat_actions(request: web.Request) -> web.Response:
        return _ok([{"chat_id": c, "action": a, "t": t} for c, a, t in fake.chat_actions])

    async def commands(request: web.Request) -> web.Response:
        return _ok(
            fake.commands(
                request.query.get("scope") or "default", request.query.get("language_code", "")
            )
        )

    routes: list[tuple[str, str, Route]] = [
        ("GET", "/_fake/health", health),
        ("GET", "/_fake/state", state),
        ("POST", "/_fake/reset", reset),
        ("POST", "/_fake/users", add_user),
        ("POST", "/_fake/users/{user_id:-?\\d+}/{op}", user_action),
        ("POST", "/_fake/inject", inject),
        ("POST", "/_fake/fail_next", fail_next),
        ("POST", "/_fake/fail_rate", fail_rate),
        ("POST", "/_fake/clear_faults", clear_faults),
        ("POST", "/_fake/limits", limits),
        ("GET", "/_fake/messages", messages),
        ("GET", "/_fake/messages/wait", wait_message),
        ("GET", "/_fake/history", history),
        ("GET", "/_fake/calls", calls),
        ("GET", "/_fake/violations", violations),
        ("GET", "/_fake/sent_times", sent_times),
        ("GET", "/_fake/updates", updates),
        ("GET", "/_fake/webhook_deliveries", deliveries),
        ("GET", "/_fake/callback_queries", callback_queries),
        ("GET", "/_fake/chat_actions", chat_actions),
        ("GET", "/_fake/commands", commands),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, guarded(handler))
