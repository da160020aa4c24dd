"""`sipas serve` and `sipas migrate`: run the service, or only bring the database up to date."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.base import CommandError, prepare


def cmd_migrate(_args: argparse.Namespace) -> None:
    prepare()
    print("database is up to date")


def cmd_serve(_args: argparse.Namespace) -> None:
    from bot.app import serve
    from bot.secret_key import SecretKeyProblem, check_for_serve

    settings = prepare()
    try:
        asyncio.run(check_for_serve(settings))
    except SecretKeyProblem as exc:
        raise CommandError(str(exc)) from None

    def ready(url: str) -> None:
        print(f"SIPAS Bot listens on {url}", file=sys.stderr, flush=True)
        print("Send a first signed event:  .venv/bin/sipas send-sample", file=sys.stderr)
        print("Stop with Ctrl+C.", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(settings, on_ready=ready))
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {settings.http_host}:{settings.http_port}: {exc}"
        ) from None
