"""Helpers shared by tests: valid payloads and signed deliveries."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.onestop.signature import sign

SECRET = "test-secret-1"
API_TOKEN = "test-api-token"


def dossier(code: str = "H12.22-261001-0001", **fields: Any) -> dict[str, Any]:
    """A valid DVCQG dossier-sync payload; keyword arguments override or add fields."""
    base: dict[str, Any] = {
        "MaHoSo": code,
        "MaCoQuan": "000.00.01.H12",
        "TenCoQuan": "Trung tâm Phục vụ hành chính công tỉnh",
        "MaTTHC": "1.001612",
        "TenTTHC": "Cấp giấy chứng nhận đăng ký hộ kinh doanh",
        "TrangThaiHoSo": 2,
        "NgayTiepNhan": "20261001083000",
        "NgayHenTra": "20261008170000",
        "ChuHoSo": "Nguyễn Thị Hằng",
        "SoDienThoai": "0912345678",
        "NguoiXuLy": "Trần Văn Đức",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def signed(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    key: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a correctly signed delivery."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Sipas-Timestamp": stamp,
        "X-Sipas-Signature": sign(secret, stamp, body),
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    return body, headers


def bearer(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
