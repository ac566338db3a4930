"""Safe conversions for values read from untrusted metadata: wrong types become None, never an error."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_TEXT = 8 * 1024 * 1024  # one metadata field; ComfyUI workflows reach a few hundred KB
MAX_PROMPT = 64 * 1024  # longer prompts are cut (and the cut is noted)


def loads_json(text: Any) -> Any:
    """Parse JSON or return None; deep nesting, huge numbers and junk all come back as None."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError, TypeError):
        return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**64 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value == int(value) and abs(value) < 2**64 else None
    if isinstance(value, str) and 0 < len(value) <= 25:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = as_float(text)
            return as_int(number) if number is not None else None
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value) if abs(value) < 1e300 else math.inf
        return number if math.isfinite(number) else None
    if isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def as_text(value: Any, limit: int = MAX_PROMPT) -> str | None:
    """A string value, cut to `limit` characters; numbers become text, other types None."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def short(value: Any, limit: int = 2000, depth: int = 0) -> Any:
    """A copy of a JSON value small enough to show: long strings cut, big or deep containers trimmed."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, (dict, list)) and depth >= 12:
        return "…"
    if isinstance(value, dict):
        return {str(k)[:200]: short(v, limit, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list):
        return [short(v, limit, depth + 1) for v in value[:100]]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**64:
        return str(value)[:40]
    return value


def unreadable(info: Any, raw: dict[str, Any]) -> tuple[str, ...]:
    """Notes for values that were present in the file but had the wrong type (read as None)."""
    return tuple(
        f"{field} {str(value)[:40]!r} could not be read"
        for field, value in raw.items()
        if value not in (None, "") and getattr(info, field) is None
    )
