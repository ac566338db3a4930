"""JSON from files Atelier did not write (model headers and configs, settings a person edited): parsed so
that any bad content, nesting thousands deep included, is one ValueError like any other broken JSON."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """json.loads, but brackets nested past the interpreter's recursion limit (a RecursionError, which
    callers catching ValueError would let through and crash on) raise ValueError instead."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to be real: the file is damaged or was made to break readers") \
            from None
