"""The receipt's QR code over HTTP: `/s/<token>/qr.svg` and `/s/<token>/qr.png` encode the
case's `links.web` (read back with a real decoder), are fixed in size and uncached, and an
unknown token is a 404 page (interfaces.md "Web survey and QR code"; SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import zxingcpp
from aiohttp.test_utils import TestClient
from PIL import Image
from yarl import URL

from bot.web.qr_routes import qr_modules
from tests.support import dossier, signed

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_RE = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


async def deliver(client: TestClient, **fields: Any) -> dict[str, Any]:
    body, headers = signed(dossier(**fields))
    response = await client.post("/api/v1/onestop/events", data=body, headers=headers)
    assert response.status == 202, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def path_of(link: str) -> str:
    """The path of one of the receipt's absolute links, to ask the in-process server."""
    return str(URL(link).path)


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def modules_of_svg(root: ET.Element) -> list[list[bool]]:
    """The module matrix an SVG of ours draws (its viewBox in modules, runs in its path)."""
    _, _, width, height = (int(v) for v in root.attrib["viewBox"].split())
    assert width == height
    matrix = [[False] * width for _ in range(height)]
    (path,) = root.iter(f"{SVG_NS}path")
    data = path.attrib["d"]
    runs = RUN_RE.findall(data)
    assert "".join(f"M{x} {y}h{n}v1h-{n}z" for x, y, n in runs) == data
    for x, y, n in runs:
        for column in range(int(x), int(x) + int(n)):
            matrix[int(y)][column] = True
    return matrix


def raster(matrix: list[list[bool]], scale: int = 8) -> Image.Image:
    """The matrix as a black-on-white image, as a printer would put it on paper."""
    size = len(matrix)
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def assert_private(response: Any) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]


async def test_the_svg_encodes_the_web_link(client: TestClient) -> None:
    answer = await deliver(client)
    web_link = answer["links"]["web"]
    response = await client.get(path_of(answer["links"]["qr"]))
    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    assert_private(response)
    root = ET.fromstring(await response.read())
    assert root.tag == f"{SVG_NS}svg"
    assert root.attrib["width"] == root.attrib["height"] == "35mm"
    matrix = modules_of_svg(root)
    # The quiet zone: four light modules on every side.
    assert not any(any(row) for row in matrix[:4] + matrix[-4:])
    assert not any(any(row[:4]) or any(row[-4:]) for row in matrix)
    assert matrix == qr_modules(web_link)
    assert decode(raster(matrix)) == [web_link]


async def test_the_png_encodes_the_web_link(client: TestClient) -> None:
    answer = await deliver(client)
    token = answer["links"]["web"].rsplit("/", 1)[1]
    response = await client.get(f"/s/{token}/qr.png")
    assert response.status == 200
    assert response.content_type == "image/png"
    assert_private(response)
    data = await response.read()
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    assert width == height and 300 <= width <= 600, image.size
    assert decode(image.convert("L")) == [answer["links"]["web"]]
    [result] = zxingcpp.read_barcodes(image.convert("L"))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.ec_level == "H"


async def test_a_repeated_delivery_keeps_the_same_code(client: TestClient) -> None:
    first = await deliver(client, TrangThaiHoSo=2)
    body, headers = signed(dossier(TrangThaiHoSo=4, ThoiDiemXuLy="20261002090000"))
    again = await (await client.post("/api/v1/onestop/events", data=body, headers=headers)).json()
    assert again["links"]["qr"] == first["links"]["qr"]
    one = await (await client.get(path_of(first["links"]["qr"]))).read()
    two = await (await client.get(path_of(again["links"]["qr"]))).read()
    assert one == two


BAD_TOKENS = [
    "AAAAAAAAAAAAAAAAAAAAAA",  # well formed, no such case
    "short",
    "AAAAAAAAAAAAAAAAAAAAAA%3Cscript%3E",
    "%E1%BA%A1" * 8,
]


async def test_an_unknown_or_malformed_token_is_a_404_page(client: TestClient) -> None:
    await deliver(client)
    for token in BAD_TOKENS:
        for kind in ("svg", "png"):
            response = await client.get(f"/s/{token}/qr.{kind}")
            assert response.status == 404, (token, kind)
            assert response.content_type == "text/html"
            assert_private(response)
            page = await response.text()
            assert "Không tìm thấy hồ sơ" in page
            assert "<script" not in page


async def test_a_retired_key_ends_the_code(client: TestClient) -> None:
    """A token made with a key that is not configured finds no case (as the case page)."""
    from bot.onestop.links import case_token

    answer = await deliver(client)
    case_code = answer["MaHoSo"]
    forged = case_token(b"some-other-key", case_code)
    response = await client.get(f"/s/{forged}/qr.svg")
    assert response.status == 404
