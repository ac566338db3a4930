"""Pickle model files (.ckpt .pt .pth .bin): refused by default, trusted one file at a time.

Unpickling runs code that the file's author chose (InvokeAI CVE-2024-12029; torch.load's
weights_only=True itself was bypassable up to torch 2.5.1, CVE-2025-32434). Atelier never unpickles
a file unless the user opted in for that exact file (its SHA-256), and then only with
torch.load(weights_only=True), in the engine. This module only looks at bytes; it never unpickles.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from desktop.core import json_text
from desktop.core.atomic import write_text_atomic

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle"}
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default container: a zip holding data.pkl


def looks_like_pickle(path: str | Path) -> bool:
    """True for a zip (torch.save) or a raw pickle stream (protocol 2-5), whatever the file is called."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(9)
            size = Path(path).stat().st_size
    except OSError:
        return False
    if head.startswith(_ZIP_MAGIC):
        return True
    if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:
        return False
    # a safetensors header length can begin with the same two bytes (640, 896, ... bytes): a JSON object
    # right after a length that fits the file is safetensors, not a pickle
    return not (len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") + 8 <= size)


def refusal_message(path: str | Path) -> str:
    name = Path(path).name
    return (
        f"{name} is a pickle file (.ckpt/.pt/.bin): loading it can run any code its author put inside, "
        "so Atelier does not open it. Prefer a .safetensors version of the same model (most model pages "
        "offer one). If you trust where this file came from, convert it once: "
        f"'python main.py models import \"{path}\" --trust-pickle' reads it with torch.load(weights_only=True), "
        "which refuses embedded code, and saves a .safetensors copy that Atelier uses from then on."
    )


def file_sha256(path: str | Path, chunk: int = 8 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class TrustList:
    """The pickle files the user explicitly allowed, by SHA-256, kept in a small JSON file."""

    def __init__(self, file: str | Path):
        self.file = Path(file)
        self._entries = self._read()

    def _read(self) -> dict[str, str]:
        if not self.file.exists():
            return {}
        try:
            data = json_text.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("trust list %s is unreadable (%s); trusting no pickle file", self.file, error)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def trust(self, path: str | Path) -> str:
        """Record the user's opt-in for this exact file content; returns its SHA-256."""
        digest = file_sha256(path)
        self._entries[digest] = str(Path(path).resolve())
        write_text_atomic(self.file, json.dumps(self._entries, indent=2, sort_keys=True))
        return digest

    def is_trusted(self, path: str | Path) -> bool:
        # by content, so a file swapped in under the same name is not trusted
        return bool(self._entries) and file_sha256(path) in self._entries
