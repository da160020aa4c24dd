"""Baseline of the webhook benchmark: a bare aiohttp handler that does what an OA webhook must
and nothing more.

`POST /zalo/webhook`: read the body, `json.loads` it, check `X-ZEvent-Signature` (`mac=` +
SHA-256 hex of app id + raw body + the body's `timestamp` + OA secret key, constant-time
compare; 401 when wrong), then ONE statement that stores the body once by its key (event name
and `message.msg_id`, as the product dedupes), and 200 `{"ok": true}`. The database side is the
intake benchmark's durable baseline (`bench.ingest.baseline_durable`): PostgreSQL through an
asyncpg pool (`INSERT … ON CONFLICT DO NOTHING RETURNING id`, one round trip), SQLite through
aiosqlite on one connection in WAL mode with `synchronous=NORMAL` (the service's pragmas).

`python -m bench.zalo_oa.webhook_baseline --port P --database postgresql://…|sqlite:///path`
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

# The same storage as the intake benchmark's baseline B (the table `bench_events`).
from bench.ingest.baseline_durable import STORE, _postgres, _sqlite
from bench.zalo_oa.common import APP_ID, OA_SECRET_KEY, WEBHOOK_PATH

MAX_BODY = 64 * 1024
OK = json.dumps({"ok": True})


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _key(body: dict[str, Any], raw: bytes) -> str:
    message = body.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if isinstance(msg_id, str) and msg_id:
        return f"{body.get('event_name')}:{msg_id}"[:200]
    return hashlib.sha256(raw).hexdigest()


def make_handler(app_id: str, secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    prefix, suffix = app_id.encode("utf-8"), secret.encode("utf-8")

    async def accept(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _refuse(413, "body too large")
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        stamp = body.get("timestamp", "") if isinstance(body, dict) else ""
        expected = "mac=" + hashlib.sha256(prefix + raw + str(stamp).encode() + suffix).hexdigest()
        given = request.headers.get("X-ZEvent-Signature", "").strip()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return _refuse(401, "bad signature")
        if not isinstance(body, dict):
            return _refuse(400, "the body must be a JSON object")
        now = datetime.now(UTC).replace(tzinfo=None)
        await request.app[STORE](_key(body, raw), raw.decode("utf-8"), now)
        return web.Response(text=OK, content_type="application/json")

    return accept


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(
    database: str, *, app_id: str = APP_ID, secret: str = OA_SECRET_KEY
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(WEBHOOK_PATH, make_handler(app_id, secret))
    app.router.add_get("/healthz", healthz)
    if database.startswith(("postgresql://", "postgres://")):
        app.cleanup_ctx.append(_postgres(database))
    elif database.startswith("sqlite:///"):
        app.cleanup_ctx.append(_sqlite(database.removeprefix("sqlite:///")))
    else:
        raise SystemExit(f"unsupported database URL {database!r}")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zalo_oa.webhook_baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="postgresql://… or sqlite:///path")
    args = parser.parse_args(argv)
    web.run_app(
        create_app(args.database), host=args.host, port=args.port, access_log=None, print=None
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
