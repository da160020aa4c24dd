"""Baseline: a bare aiohttp handler serving the survey page's HTML from one indexed SELECT.

`GET /s/<token>`: the token's shape checked, its SHA-256 looked up with ONE statement on the
service's own database — `cases` by its unique `link_token_hash`, joined to `procedures` by
primary key for the procedure's name — then the page the service served for another token,
captured at setup (`Template`), filled with this case's code, procedure and an HMAC of the
token in the CSRF field's place, and sent with the service's page headers. The same bytes on
the wire; none of the service's work: no survey state, no questionnaire, no rate limit, no
middleware, no metrics.

PostgreSQL through an asyncpg pool (10–30 connections, no reset query on release); SQLite
through aiosqlite on one connection (WAL, as the service leaves the file). `GET /healthz`
answers 200.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
PG_SELECT = (
    "SELECT c.code, p.name FROM cases c JOIN procedures p ON p.code = c.procedure_code "
    "WHERE c.link_token_hash = $1"
)
LITE_SELECT = PG_SELECT.replace("$1", "?")
Lookup = Callable[[str], Awaitable[tuple[str, str] | None]]
LOOKUP: web.AppKey[Lookup] = web.AppKey("lookup")


@dataclass(frozen=True, slots=True)
class Template:
    """A captured page cut where its per-case values were: `parts[0] field[0] parts[1] …`."""

    parts: list[str]
    fields: list[str]
    headers: dict[str, str]

    @classmethod
    def cut(cls, html: str, values: dict[str, str], headers: dict[str, str]) -> Template:
        """Cut `html` at every occurrence of the (already escaped) `values`, by field name."""
        lookup = {value: name for name, value in values.items()}
        pattern = re.compile("|".join(re.escape(value) for value in values.values()))
        parts: list[str] = []
        fields: list[str] = []
        position = 0
        for found in pattern.finditer(html):
            parts.append(html[position : found.start()])
            fields.append(lookup[found.group()])
            position = found.end()
        parts.append(html[position:])
        missing = set(values) - set(fields)
        if missing:
            raise ValueError(f"the page does not hold {sorted(missing)}")
        return cls(parts, fields, headers)

    def render(self, values: dict[str, str]) -> str:
        out = [self.parts[0]]
        for name, part in zip(self.fields, self.parts[1:], strict=True):
            out.append(values[name])
            out.append(part)
        return "".join(out)

    def dump(self, path: Path) -> None:
        document = {"parts": self.parts, "fields": self.fields, "headers": self.headers}
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Template:
        document = json.loads(path.read_text(encoding="utf-8"))
        return cls(document["parts"], document["fields"], document["headers"])


def csrf_of(key: bytes, token: str) -> str:
    """An HMAC of the token, the length and cost of the service's CSRF field."""
    mac = hmac.digest(key, token.encode("ascii"), "sha256")
    return base64.urlsafe_b64encode(mac[:16]).decode("ascii").rstrip("=")


def make_handler(template: Template, key: bytes) -> Callable[[web.Request], Awaitable[Any]]:
    async def show(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN.match(token):
            return web.Response(status=404, text="not found")
        found = await request.app[LOOKUP](hashlib.sha256(token.encode("ascii")).hexdigest())
        if found is None:
            return web.Response(status=404, text="not found")
        code, procedure = found
        html = template.render(
            {"code": escape(code), "procedure": escape(procedure), "csrf": csrf_of(key, token)}
        )
        return web.Response(
            text=html, content_type="text/html", charset="utf-8", headers=template.headers
        )

    return show


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def _postgres(dsn: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        import asyncpg

        class Stateless(asyncpg.Connection):
            """No session state is ever set, so release needs no reset query."""

            def get_reset_query(self) -> str:
                return ""

        pool: Any = await asyncpg.create_pool(
            dsn, min_size=10, max_size=30, connection_class=Stateless
        )

        async def lookup(token_hash: str) -> tuple[str, str] | None:
            async with pool.acquire() as conn:
                row = await conn.fetchrow(PG_SELECT, token_hash)
            return None if row is None else (row[0], row[1])

        app[LOOKUP] = lookup
        yield
        await pool.close()

    return ctx


def _sqlite(path: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        import aiosqlite

        db = await aiosqlite.connect(path, isolation_level=None, timeout=30)

        async def lookup(token_hash: str) -> tuple[str, str] | None:
            async with db.execute(LITE_SELECT, (token_hash,)) as cursor:
                row = await cursor.fetchone()
            return None if row is None else (str(row[0]), str(row[1]))

        app[LOOKUP] = lookup
        yield
        await db.close()

    return ctx


def create_app(database: str, template: Template, key: bytes) -> web.Application:
    app = web.Application()
    app.router.add_get("/s/{token}", make_handler(template, key))
    app.router.add_get("/healthz", healthz)
    if database.startswith(("postgresql://", "postgres://")):
        app.cleanup_ctx.append(_postgres(database))
    elif database.startswith("sqlite:///"):
        app.cleanup_ctx.append(_sqlite(database.removeprefix("sqlite:///")))
    else:
        raise SystemExit("unsupported database URL (postgresql://… or sqlite:///…)")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web.baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="postgresql://… or sqlite:///path")
    parser.add_argument("--template", type=Path, required=True, help="captured page (JSON)")
    args = parser.parse_args(argv)
    key = hashlib.sha256(b"bench-web-baseline-csrf").digest()
    app = create_app(args.database, Template.load(args.template), key)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
