"""`sipas init-env` and `sipas export-secret-key`: the secrets a deployment keeps in `.env`."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

from bot.cli.base import CommandError, prepare

ENV_TEMPLATE = Path(__file__).resolve().parents[2] / ".env.example"
# Keys newer versions need that an existing `.env` gets appended when it lacks them.
ADDED_LATER = ("SIPAS_CONTACT_KEY",)


def cmd_init_env(args: argparse.Namespace) -> None:
    """Write `.env` from `.env.example` with fresh random secrets; an existing one is left as
    it is but for the keys of `ADDED_LATER` it lacks, which are appended."""
    target = Path(args.path)
    if target.is_symlink():
        raise CommandError(f"{target} is a symbolic link; refusing to write secrets through it")
    if target.exists():
        added = add_missing_keys(target)
        if added:
            print(f"{target} exists; added a new random {' and '.join(added)} to it")
        else:
            print(f"{target} exists; left unchanged")
        return
    template = Path(args.template)
    if not template.exists():
        raise CommandError(f"template {template} not found")
    generated = {
        "SIPAS_ONESTOP_SECRETS": secrets.token_urlsafe(32),
        "SIPAS_API_TOKEN": secrets.token_urlsafe(32),
        "SIPAS_SECRET_KEY": secrets.token_urlsafe(32),
        "SIPAS_CONTACT_KEY": secrets.token_urlsafe(32),
    }
    lines = []
    for line in template.read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0].strip()
        if name in generated and "=" in line and not line.lstrip().startswith("#"):
            line = f"{name}={generated[name]}"
        lines.append(line)
    try:
        write_private(target, "\n".join(lines) + "\n")
    except FileExistsError:
        raise CommandError(f"{target} appeared while writing it; left unchanged") from None
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target} with new random secrets")


def _defined_names(text: str) -> set[str]:
    """The variables an env file assigns (commented lines do not count)."""
    names = set()
    for line in text.splitlines():
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith("#"):
            names.add(stripped.split("=", 1)[0].removeprefix("export ").strip())
    return names


def add_missing_keys(target: Path) -> list[str]:
    """Append a fresh key for each of `ADDED_LATER` that an existing `.env` (written by an
    older version) does not assign and the environment does not set; the names added.

    Nothing else in the file changes. A key the file assigns, even empty, is the operator's
    choice and stays as it is."""
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {target}: {exc}") from None
    defined = _defined_names(text)
    missing = [name for name in ADDED_LATER if name not in defined and not os.environ.get(name)]
    if not missing:
        return []
    lines = ["" if text.endswith("\n") or not text else "\n"]
    for name in missing:
        lines.append("# Added by `sipas init-env` (see .env.example).\n")
        lines.append(f"{name}={secrets.token_urlsafe(32)}\n")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    return missing


def write_private(target: Path, text: str) -> None:
    """Create `target` readable by its owner only, from the first byte: never through a
    symbolic link, never over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask allowed
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            descriptor = -1
            handle.write(text)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        target.unlink(missing_ok=True)
        raise


def cmd_export_secret_key(_args: argparse.Namespace) -> None:
    """Move the link key an older version kept in the database to SIPAS_SECRET_KEY."""
    from bot.secret_key import export_stored_key
    from storage.errors import StorageError

    settings = prepare()
    try:
        outcome = asyncio.run(export_stored_key(settings))
    except StorageError as exc:
        raise CommandError(f"database unavailable: {exc}") from None
    if outcome.line is None:
        print(outcome.message)
        return
    print(outcome.line)
    print(outcome.message, file=sys.stderr)
