"""Baseline A: a bare aiohttp server that answers 202 without reading the body.

The ceiling of this HTTP stack and this load generator on this machine: no signature, no JSON,
no database. `GET /healthz` answers 200 so the orchestrator knows it is up.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from bench.ingest.payloads import PATH


async def accept(_request: web.Request) -> web.Response:
    return web.Response(status=202)


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post(PATH, accept)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.baseline_bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
