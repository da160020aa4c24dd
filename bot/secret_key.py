"""`SIPAS_SECRET_KEY` at start, and moving a key an older version kept in the database.

The link and phone-hash key never lives in the database (a dump would give away every link
token and, by brute force over the mobile numbers, every hashed phone). `sipas serve` refuses
to start without it. Versions before key ids generated it into `service_secrets` when the
variable was empty; for such a deployment `sipas export-secret-key` prints the
`SIPAS_SECRET_KEY=…` line that keeps every existing link and phone hash working, and the
database copy is deleted as soon as the environment holds the key (by that command run again,
or by `sipas serve`) — never before, so the key cannot be lost between the two steps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.onestop.links import LEGACY_KEY_ID
from storage.cases import delete_stored_link_key, stored_link_key
from storage.db import create_engine
from storage.errors import StorageError

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 16
EXPORT_HINT = "run `sipas export-secret-key` and put the SIPAS_SECRET_KEY line it prints in .env"


class SecretKeyProblem(Exception):
    """`sipas serve` must not start with these keys; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    line: str | None  # the SIPAS_SECRET_KEY line to put in .env, when there is one
    message: str


async def check_for_serve(settings: Settings) -> None:
    """Raise `SecretKeyProblem` unless the environment holds a usable link key; delete a
    database copy of the key once the environment holds it."""
    ring = settings.key_ring
    engine = create_engine(settings.database_url)
    try:
        stored = await stored_link_key(engine)
        if stored is not None:
            if not ring.holds(stored):
                raise SecretKeyProblem(f"the link key is still kept in the database: {EXPORT_HINT}")
            await delete_stored_link_key(engine)
            log.info("the database copy of the link key was deleted (SIPAS_SECRET_KEY holds it)")
    except StorageError as exc:
        raise SecretKeyProblem(f"database unavailable: {exc}") from None
    finally:
        await engine.dispose()
    if not ring:
        raise SecretKeyProblem(
            "SIPAS_SECRET_KEY is not set: run `sipas init-env` to write a .env with one, or "
            "add SIPAS_SECRET_KEY=<32 random characters> to .env"
        )
    if len(ring.secret(ring.current_id)) < MIN_SECRET_LENGTH:
        raise SecretKeyProblem(
            f"SIPAS_SECRET_KEY: the current key ({ring.current_id}) is shorter than "
            f"{MIN_SECRET_LENGTH} characters; put a new random key first, e.g. "
            f"SIPAS_SECRET_KEY=k1:<32 random characters>,{ring.current_id}:<the old key>"
        )


def _legacy_entry(settings: Settings, stored: str) -> str:
    ring = settings.key_ring
    # Tokens made before key ids are recorded as kid k0 (migration 0011).
    kid = LEGACY_KEY_ID if LEGACY_KEY_ID not in ring else "kdb"
    return f"{kid}:{stored}"


async def export_stored_key(settings: Settings) -> ExportOutcome:
    """What `sipas export-secret-key` does: print the line, or delete the moved copy."""
    engine = create_engine(settings.database_url)
    try:
        stored = await stored_link_key(engine)
        if stored is None:
            return ExportOutcome(None, "the database holds no link key; nothing to move")
        if settings.key_ring.holds(stored):
            await delete_stored_link_key(engine)
            return ExportOutcome(
                None, "deleted the database copy of the link key (SIPAS_SECRET_KEY holds it)"
            )
    finally:
        await engine.dispose()
    entries = [*settings.key_ring.entries(), _legacy_entry(settings, stored)]
    return ExportOutcome(
        "SIPAS_SECRET_KEY=" + ",".join(entries),
        "Put this line in .env (in place of any SIPAS_SECRET_KEY line) or in the service's "
        "environment, then run `sipas export-secret-key` again or start `sipas serve`: the "
        "database copy is deleted once SIPAS_SECRET_KEY holds the key. Keep the line secret.",
    )
