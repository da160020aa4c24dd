"""`sipas purge-contacts`: delete the sealed phone numbers kept past their retention (the
daily job `purge-contacts`, run by hand)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from bot.cli.base import CommandError, prepare


def cmd_purge_contacts(_args: argparse.Namespace) -> None:
    """Delete every sealed phone number SIPAS_CONTACT_RETENTION_DAYS past the end of its case
    and of its survey; prints how many."""
    from bot.clock import Clock
    from storage.contacts import ContactStore
    from storage.db import create_engine
    from storage.errors import StorageError

    settings = prepare()
    days = settings.contact_retention_days
    now = Clock(settings.tz, clock_file=settings.clock_file or None).utcnow()

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await ContactStore(engine).purge(now, timedelta(days=days))
        finally:
            await engine.dispose()

    try:
        purged = asyncio.run(run())
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    print(f"{purged} phone numbers deleted (kept {days} days after a case and its survey end)")
