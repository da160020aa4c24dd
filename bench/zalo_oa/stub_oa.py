"""A recording stub of the Zalo OA API for the benchmarks, run as its own process:
`python -m bench.zalo_oa.stub_oa --port P [--access-token A --refresh-token R --app-secret S]`.

It answers what the product calls — `POST /v3.0/oa/message/cs` (`{"error": 0, "data":
{"message_id"}}`), `POST /v2.0/oa/upload/image` and the OAuth refresh `POST /v4/oa/access_token`
— and records every call with its arrival time on `time.monotonic()` (one clock for the whole
machine on Linux, so the driver can compare it with its own). A CS message is checked with the
fake OA's own form rules (`tests.fakes.zalo_oa_events.parse_message`: -201 when it breaks
them), and a wrong access token is -216. It enforces no rate limit itself: the benchmark reads
the arrival times instead. Unlike the test fake it keeps no users or reply windows and posts
no echoes or receipts back, so its own CPU stays small.

Control routes: `GET /_stub/health`, `GET /_stub/state` (`{"calls": n}`), `POST /_stub/arm`
(`{"rate_limited": [i, …], "unavailable": [j, …]}`: message call number i counted from now is
answered -32, number j HTTP 503; the call is recorded as `injected` and nothing is sent),
`GET /_stub/calls?since=N&bodies=0|1` (the calls from index N; with `bodies=1` each successful
CS message's `message` object too).
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from typing import Any

from aiohttp import web

from tests.fakes.zalo_oa_events import OaApiError, parse_message

MESSAGE_PATH = "/v3.0/oa/message/cs"
UPLOAD_PATH = "/v2.0/oa/upload/image"
OAUTH_PATH = "/v4/oa/access_token"
RATE_LIMITED = -32
INVALID_TOKEN = -216
INVALID_REFRESH = -14014


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    text = json.dumps(body, ensure_ascii=False)
    return web.Response(body=text.encode("utf-8"), status=status, content_type="application/json")


class StubOA:
    """The stub's state: valid tokens, the fault plan, the recorded calls."""

    def __init__(self, access_token: str, refresh_token: str, app_secret: str) -> None:
        self.tokens = {access_token}
        self.refresh_token = refresh_token
        self.app_secret = app_secret
        self.calls: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self._ordinal = 0
        self._rate_limited: set[int] = set()
        self._unavailable: set[int] = set()

    def _record(self, kind: str, at: float, **fields: Any) -> dict[str, Any]:
        call = {"i": len(self.calls), "t": at, "kind": kind, "status": 200, "error": 0, **fields}
        self.calls.append(call)
        return call

    async def message(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        try:
            body = await request.json()
        except ValueError:
            body = None
        recipient = body.get("recipient") if isinstance(body, dict) else None
        user = recipient.get("user_id") if isinstance(recipient, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        call = self._record("message", at, user=str(user or ""), injected=False)
        ordinal, self._ordinal = self._ordinal, self._ordinal + 1
        if ordinal in self._unavailable:
            call.update(status=503, injected=True)
            return web.Response(status=503, text="HTTP 503")
        if ordinal in self._rate_limited:
            call.update(error=RATE_LIMITED, injected=True)
            return _json({"error": RATE_LIMITED, "message": "Reached the limit of requests"})
        if request.headers.get("access_token") not in self.tokens:
            call.update(error=INVALID_TOKEN)
            return _json({"error": INVALID_TOKEN, "message": "Access token is invalid"})
        try:
            parsed = parse_message(message, uploads=self.uploads, require_https=False)
        except OaApiError as exc:
            call.update(error=exc.code, detail=exc.detail)
            return _json(exc.payload())
        if not user:
            call.update(error=-201, detail="no recipient.user_id")
            return _json({"error": -201, "message": "Invalid parameters"})
        shown = parsed.text or str((parsed.element or {}).get("title", ""))
        message_id = secrets.token_hex(16)
        call.update(form=parsed.kind, text=shown, message_id=message_id, body=message)
        return _json(
            {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user}}
        )

    async def upload(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        posted = await request.post()
        file = posted.get("file")
        data = file.file.read() if isinstance(file, web.FileField) else b""
        attachment_id = secrets.token_urlsafe(24)
        self.uploads[attachment_id] = data
        self._record("upload", at, size=len(data))
        return _json({"error": 0, "message": "Success", "data": {"attachment_id": attachment_id}})

    async def refresh(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        form = await request.post()
        call = self._record("refresh", at)
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("refresh_token") != self.refresh_token
        ):
            call.update(error=INVALID_REFRESH)
            return _json({"error": INVALID_REFRESH, "error_name": "Invalid refresh token"})
        access = f"bench-oa-access-{secrets.token_urlsafe(16)}"
        self.refresh_token = f"bench-oa-refresh-{secrets.token_urlsafe(16)}"
        self.tokens.add(access)
        return _json(
            {"access_token": access, "refresh_token": self.refresh_token, "expires_in": "90000"}
        )

    async def health(self, request: web.Request) -> web.Response:
        return _json({"ok": True})

    async def state(self, request: web.Request) -> web.Response:
        return _json({"calls": len(self.calls)})

    async def arm(self, request: web.Request) -> web.Response:
        plan = await request.json()
        self._ordinal = 0
        self._rate_limited = {int(i) for i in plan.get("rate_limited", [])}
        self._unavailable = {int(i) for i in plan.get("unavailable", [])}
        return _json({"ok": True})

    async def list_calls(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        bodies = request.query.get("bodies") == "1"
        rows = self.calls[since:]
        if not bodies:
            rows = [{k: v for k, v in call.items() if k != "body"} for call in rows]
        return web.Response(
            body=json.dumps(rows, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
        )


def create_app(stub: StubOA) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(MESSAGE_PATH, stub.message)
    app.router.add_post(UPLOAD_PATH, stub.upload)
    app.router.add_post(OAUTH_PATH, stub.refresh)
    app.router.add_get("/_stub/health", stub.health)
    app.router.add_get("/_stub/state", stub.state)
    app.router.add_post("/_stub/arm", stub.arm)
    app.router.add_get("/_stub/calls", stub.list_calls)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zalo_oa.stub_oa")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-token", default="bench-oa-access-token-0")
    parser.add_argument("--refresh-token", default="bench-oa-refresh-token-0")
    parser.add_argument("--app-secret", default="bench-zalo-app-secret")
    args = parser.parse_args(argv)
    app = create_app(StubOA(args.access_token, args.refresh_token, args.app_secret))
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
