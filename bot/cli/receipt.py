"""`sipas receipt <MaHoSo>`: the survey block a one-stop vendor prints on the citizen's receipt.

The block is one SVG drawing, 70 mm wide (an 80 mm thermal roll's printable width, or a corner
of an A4/A5 receipt): the QR code of the case's `links.web`, the link code in large type
(`ABCD-EFGH`), and short Vietnamese instructions — send the code to the agency's Zalo OA when
the OA channel is on, open the Telegram deep link when Telegram is on, or type the web link.

Nothing of the link is stored in clear: the token and the code are derived again from the
case code with the key of the case's link (`bot.onestop.links`), found by trying each
configured key against the stored token hash. A case whose link was made with a key no longer
in `SIPAS_SECRET_KEY` (retired) has no printable link until the next delivery gives it one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from bot.channels.links import ChannelLinks
from bot.cli.base import CommandError, prepare, with_services
from bot.config import Settings
from bot.onestop.links import KeyRing, format_link_code, token_hash, web_link
from bot.texts import VI, text

if TYPE_CHECKING:
    from bot.services import Services

WIDTH_MM = 70
_MARGIN = 3
_QR_MM = 36
_FONT = "Arial, Helvetica, sans-serif"
_MONO = "DejaVu Sans Mono, Courier New, monospace"
# A character's width in font sizes, to wrap lines within the margins: an average Vietnamese
# letter of a sans-serif font is about half its size wide, every monospace one 0.6.
_CHAR_WIDTH = {_FONT: 0.52, _MONO: 0.6}
_BODY_SIZE = 3.2
_SMALL_SIZE = 2.6
_CODE_SIZE = 9.0
UNKNOWN_CASE_EXIT = 2


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the receipt prints of a case: its code, link code (no dash) and links."""

    case_code: str
    link_code: str
    web: str
    telegram: str | None
    zalo: str | None


class RetiredLink(LookupError):
    """The case's link was made with a key no longer configured."""


async def find_receipt(
    services: Services, case_code: str, *, keys: KeyRing, public_url: str
) -> Receipt | None:
    """The receipt of `case_code`, None for an unknown case; `RetiredLink` when no configured
    key made its stored link."""
    if await services.cases.get(case_code) is None:
        return None
    for kid in keys.ids:
        token = keys.token(case_code, kid)
        found = await services.cases.by_link(token_hash(token))
        if found is not None and found[0].code == case_code:
            links = services.intake.links(case_code, token)
            return Receipt(
                case_code=case_code,
                link_code=keys.link_code(case_code, kid),
                web=web_link(public_url, token),
                telegram=links["telegram"],
                zalo=links["zalo"],
            )
    raise RetiredLink(case_code)


@dataclass
class _Drawing:
    """SVG elements stacked top to bottom, `y` the next free line's top (millimetres)."""

    parts: list[str]
    y: float = _MARGIN

    def line(self, words: str, *, size: float, family: str = _FONT, bold: bool = False) -> None:
        self.y += size
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{WIDTH_MM / 2:g}" y="{self.y:.1f}" font-family="{family}" '
            f'font-size="{size:g}"{weight} text-anchor="middle">{escape(words)}</text>'
        )
        self.y += size * 0.35

    def paragraph(self, words: str, *, size: float, family: str = _FONT) -> None:
        chars = int((WIDTH_MM - 2 * _MARGIN) / (size * _CHAR_WIDTH[family]))
        # A URL has no spaces: it is cut where the line is full, like any over-long word.
        for piece in textwrap.wrap(words, chars, break_on_hyphens=False) or [""]:
            self.line(piece, size=size, family=family)

    def gap(self, millimetres: float) -> None:
        self.y += millimetres


def receipt_svg(receipt: Receipt, *, language: str = VI) -> str:
    """The receipt block as a standalone SVG document (UTF-8, millimetre units)."""
    from bot.web.qr_routes import qr_symbol

    code = format_link_code(receipt.link_code)
    drawing = _Drawing([])
    drawing.line(text(language, "receipt.title"), size=4.2, bold=True)
    drawing.gap(1)
    drawing.parts.append(
        qr_symbol(receipt.web, x=(WIDTH_MM - _QR_MM) / 2, y=drawing.y, size=_QR_MM)
    )
    drawing.gap(_QR_MM + 1)
    drawing.paragraph(text(language, "receipt.scan"), size=_BODY_SIZE)
    drawing.line(text(language, "receipt.case_code", code=receipt.case_code), size=_SMALL_SIZE)
    drawing.gap(1.5)
    drawing.line(text(language, "receipt.link_code"), size=_BODY_SIZE)
    drawing.line(code, size=_CODE_SIZE, family=_MONO, bold=True)
    ways = [
        (text(language, "receipt.zalo", code=code), receipt.zalo),
        (text(language, "receipt.telegram"), receipt.telegram),
        (text(language, "receipt.web"), receipt.web),
    ]
    for label, url in ways:
        if url is None:
            continue
        drawing.gap(1)
        drawing.paragraph(label, size=_SMALL_SIZE)
        drawing.paragraph(url, size=_SMALL_SIZE, family=_MONO)
    height = round(drawing.y + _MARGIN, 1)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{height:g}mm" '
        f'viewBox="0 0 {WIDTH_MM} {height:g}">'
        f'<rect width="{WIDTH_MM}" height="{height:g}" fill="#fff"/>'
        + "".join(drawing.parts)
        + "</svg>\n"
    )


def _channel_links(settings: Settings) -> ChannelLinks:
    """Telegram's deep links once the bot's username is known (asked of Telegram)."""
    from bot.telegram.identity import fetch_username
    from bot.telegram.links import TelegramLinks

    typed = settings.typed_code_channels
    if not settings.telegram_bot_token:
        return ChannelLinks({}, typed=typed)
    username = asyncio.run(
        fetch_username(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    )
    if username is None:
        print(
            "Telegram is not reachable: the receipt goes without its Telegram link.",
            file=sys.stderr,
        )
    return ChannelLinks({"telegram": TelegramLinks(username)}, typed=typed)


def cmd_receipt(args: argparse.Namespace) -> None:
    """Print the case's receipt block (SVG) on stdout; an unknown case exits 2."""
    settings = prepare()
    keys = settings.key_ring
    if not keys:
        raise CommandError("SIPAS_SECRET_KEY is empty: no link can be derived")
    case_code = args.case
    links = _channel_links(settings)

    async def find(services: Services) -> Receipt | None:
        return await find_receipt(services, case_code, keys=keys, public_url=settings.public_url)

    try:
        receipt = with_services(settings, find, links=links)
    except RetiredLink:
        raise CommandError(
            f"the link of case {case_code} was made with a key no longer in SIPAS_SECRET_KEY; "
            "its next delivery from the one-stop system gives it a new link"
        ) from None
    if receipt is None:
        print(f"sipas {args.command}: unknown case {case_code}", file=sys.stderr)
        raise SystemExit(UNKNOWN_CASE_EXIT)
    sys.stdout.write(receipt_svg(receipt))
