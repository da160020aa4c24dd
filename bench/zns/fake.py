"""The fake Zalo side of the ZNS benchmark, run as its own process:
`python -m bench.zns.fake --port P --oa-port Q`.

Two servers in one event loop: the test fake OA (`tests.fakes.zalo_oa_api.FakeZaloOA`, on
`--oa-port`: the OAuth refresh the product's `OATokens` may call, and the access token every
ZNS call is checked against) and the test fake ZNS (`tests.fakes.zalo_zns_api.FakeZaloZNS`,
its routes mounted on `--port` with the default template registry and a daily quota of
`--daily-quota`, ten million by default, so no send is refused for the quota). Both take the
bench's app credentials (`bench.zalo_oa.common`). ZNS calls are judged by the fake's own rules
(template, parameters, phone form, token), not the product's.

Control routes on `--port`: `GET /_fake/health`; `GET /_fake/state` (`{"calls", "accepted"}`);
`GET /_fake/calls?since=N&bodies=0|1` (the template sends from index N: arrival `t` in epoch
seconds on the fake's clock, `status`, `error`, `injected`, `tracking_id`, the case code
(`ma_ho_so`), `template_id`; with `bodies=1` the request body too, phone included, for the
baseline sender only — the driver never writes it anywhere but its scratch directory).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from typing import Any

from aiohttp import web

from bench.zalo_oa.common import (
    ACCESS_TOKEN,
    APP_ID,
    APP_SECRET,
    OA_ID,
    OA_SECRET_KEY,
    REFRESH_TOKEN,
)
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.fakes.zalo_zns_api import FakeZaloZNS, ZnsCall

DEFAULT_DAILY_QUOTA = 10_000_000


def _json(body: Any) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"), content_type="application/json"
    )


def describe(index: int, call: ZnsCall, *, body: bool) -> dict[str, Any]:
    """One template send as the driver reads it (the phone only inside `body`)."""
    sent = call.body if isinstance(call.body, dict) else {}
    data = sent.get("template_data")
    row: dict[str, Any] = {
        "i": index,
        "t": call.at / 1000.0,
        "status": call.status,
        "error": call.error,
        "injected": call.injected,
        "tracking_id": sent.get("tracking_id"),
        "case": data.get("ma_ho_so") if isinstance(data, dict) else None,
        "template_id": sent.get("template_id"),
    }
    if body:
        row["body"] = call.body
    return row


class Control:
    """The `/_fake/...` routes over the fake ZNS's records."""

    def __init__(self, zns: FakeZaloZNS) -> None:
        self.zns = zns

    def _messages(self) -> list[ZnsCall]:
        return [call for call in self.zns.calls if call.kind == "message"]

    async def health(self, request: web.Request) -> web.Response:
        return _json({"ok": True})

    async def state(self, request: web.Request) -> web.Response:
        return _json({"calls": len(self._messages()), "accepted": len(self.zns.sent)})

    async def calls(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            raise web.HTTPBadRequest(text="since must be an integer") from None
        bodies = request.query.get("bodies") == "1"
        messages = self._messages()
        rows = [
            describe(i, call, body=bodies)
            for i, call in enumerate(messages[since:], start=max(since, 0))
        ]
        return _json(rows)


async def serve(args: argparse.Namespace) -> None:
    oa = FakeZaloOA(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        oa_id=OA_ID,
        oa_secret_key=OA_SECRET_KEY,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        echo=False,
        receipts=False,
        calls_per_minute=None,
    )
    await oa.start(args.oa_port)
    zns = FakeZaloZNS(oa, daily_quota=args.daily_quota)
    control = Control(zns)
    app = web.Application(client_max_size=1024 * 1024)
    zns.add_routes(app)
    app.router.add_get("/_fake/health", control.health)
    app.router.add_get("/_fake/state", control.state)
    app.router.add_get("/_fake/calls", control.calls)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await oa.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zns.fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="the ZNS API and /_fake routes")
    parser.add_argument("--oa-port", type=int, required=True, help="the OA API and its OAuth")
    parser.add_argument("--daily-quota", type=int, default=DEFAULT_DAILY_QUOTA)
    asyncio.run(serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
