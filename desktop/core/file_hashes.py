"""SHA-256 of model files, computed once per file version: a 64 MB upscaler costs ~0.2 s to hash on this CPU,
which a hires fix would otherwise pay on every job. Keyed by path, size and modification time, so a file
replaced in place is hashed again."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from desktop.core.pickle_files import file_sha256

_cache: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def cached_sha256(path: str | Path) -> str:
    resolved = Path(path).resolve()
    stat = os.stat(resolved)
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = file_sha256(resolved)
        with _lock:
            _cache[key] = found
    return found
