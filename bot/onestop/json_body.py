"""Decoding a one-stop request body into one JSON object, refusing what no database can hold.

`parse_json` raises `SchemaError` (HTTP 400) for a body that is not JSON, not an object, nests
deeper than `MAX_DEPTH`, holds a non-finite number (NaN, ±Infinity, 1e999) or an unpaired
UTF-16 surrogate escape; the object it returns is then checked by `bot.onestop.dossier.validate`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bot.onestop.dossier import SchemaError

MAX_DEPTH = 16


def _too_deep(value: Any, limit: int) -> bool:
    """True if `value` nests lists and objects more than `limit` levels (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _has_surrogate(key: str, value: Any) -> bool:
    try:
        json.dumps({key: value}, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        # 1e999 overflows to infinity, which no database's JSON can hold.
        raise ValueError(f"number {text[:40]} is out of range")
    return number


# Python's decoder takes NaN and ±Infinity, which are not JSON (RFC 8259) and which PostgreSQL's
# json type refuses; one decoder, built once, so the hot path pays no setup.
_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_refuse_constant)


def _decode(body: bytes) -> Any:
    """`json.loads(body)` (the same encoding detection) with non-finite numbers refused."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def parse_json(body: bytes) -> dict[str, Any]:
    """Decode the body as one JSON object or raise `SchemaError`."""
    try:
        decoded = _decode(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SchemaError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise SchemaError("body is not valid JSON: nested too deeply") from None
    if not isinstance(decoded, dict):
        raise SchemaError("body must be a JSON object", {"$": "expected an object"})
    problems: dict[str, str] = {}
    maybe_surrogates = b"\\u" in body and b"\\ud" in body.lower()
    for key, value in decoded.items():
        name = str(key)
        if (type(value) is dict or type(value) is list) and _too_deep(value, MAX_DEPTH - 1):
            problems[name] = f"nests more than {MAX_DEPTH} levels"
        elif maybe_surrogates and _has_surrogate(key, value):
            # A \uD800-style escape without its pair decodes to text no database can store.
            problems[name] = "holds an unpaired UTF-16 surrogate escape"
    if problems:
        raise SchemaError("payload does not match the schema", problems)
    return decoded


__all__ = ["MAX_DEPTH", "parse_json"]
