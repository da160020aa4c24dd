"""What every `sipas` subcommand shares: the one-line error, settings read with a clean
message, migrating first, and a run against the assembled services."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from bot.channels.links import ChannelLinks
from bot.config import Settings
from bot.logs import configure as configure_logging


class CommandError(Exception):
    """A command cannot do what was asked; the message is shown on one line."""


def load_settings() -> Settings:
    """The settings from the environment and `.env`; a bad value is a `CommandError`."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        raise CommandError(
            f"invalid setting {where}: {message}" if where else f"invalid settings: {message}"
        ) from None


def prepare() -> Settings:
    """Settings read, logging configured and the database migrated: a command's first steps."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    migrate_database(settings)
    return settings


def migrate_database(settings: Settings) -> None:
    """Bring the configured database to the head revision, or fail with one line."""
    from storage.db import migrate

    try:
        migrate(settings.database_url)
    except Exception as exc:
        raise CommandError(f"migration failed: {type(exc).__name__}: {exc}") from exc


def with_services(settings: Settings, work: Any, *, links: ChannelLinks | None = None) -> Any:
    """Run `await work(services)` against the configured database, with clean errors."""
    from bot.services import build_services
    from storage.db import create_engine
    from storage.errors import StorageError

    async def run() -> Any:
        engine = create_engine(settings.database_url)
        services = await build_services(settings, engine, links=links)
        try:
            await services.surveys.ensure_form()
            return await work(services)
        finally:
            await services.close()
            await engine.dispose()

    try:
        return asyncio.run(run())
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
