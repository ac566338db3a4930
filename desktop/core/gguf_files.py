"""GGUF chat models: what a .gguf file is (for the model list) and where its converted copy lives.

transformers runs a GGUF by dequantising it in Python, which takes minutes for a big model. Atelier
does that once and keeps the result as a safetensors folder in the GGUF cache, named by the file's
identity (a fingerprint of its size, first and last MiB), so the second start loads that folder in
seconds, a moved or renamed file still finds its copy, and a changed file gets a new one. The GGUF
itself is only ever read. This module is torch-free: the conversion is desktop.engine.gguf_convert.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from desktop.core.gguf_header import GgufError, looks_like_gguf, read_gguf

GGUF_SUFFIX = ".gguf"
CACHE_MARKER = "atelier-gguf.json"  # written last: a folder without it is an unfinished conversion
FINGERPRINT_BYTES = 1 << 20
# llama.cpp architecture name -> transformers' GGUF key: the chat (causal LM) architectures
# transformers 5.23 dequantises (tests/engine/test_gguf_convert.py checks this against transformers)
SUPPORTED_ARCHITECTURES = {
    "llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen2moe": "qwen2_moe", "qwen3": "qwen3",
    "qwen3moe": "qwen3_moe", "gpt-oss": "gpt_oss", "lfm2": "lfm2", "falcon": "falcon", "phi3": "phi3",
    "bloom": "bloom", "stablelm": "stablelm", "gpt2": "gpt2", "starcoder2": "starcoder2", "mamba": "mamba",
    "nemotron": "nemotron", "gemma2": "gemma2", "gemma3": "gemma3", "gemma4": "gemma4", "deci": "deci",
    "minimax-m2": "minimax_m2",
}


def is_gguf(path: str | Path) -> bool:
    path = Path(path)
    return path.is_file() and (path.suffix.lower() == GGUF_SUFFIX or looks_like_gguf(path))


def gguf_cache_root() -> Path:
    """Where converted GGUFs live: beside Atelier's data, or ATELIER_GGUF_CACHE (another drive)."""
    override = os.environ.get("ATELIER_GGUF_CACHE")
    if override:
        return Path(override)
    from desktop.core.paths import AppPaths

    return AppPaths.default().data_dir / "gguf-cache"


def fingerprint(path: str | Path) -> str:
    """The file's identity: its size and its first and last MiB (fast on a 20 GB file)."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
        if size > 2 * FINGERPRINT_BYTES:
            handle.seek(size - FINGERPRINT_BYTES)
        digest.update(handle.read(FINGERPRINT_BYTES))
    return digest.hexdigest()[:20]


def cache_folder(path: str | Path, root: Path | None = None, identity: str | None = None) -> Path:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).name.removesuffix(GGUF_SUFFIX))[:60] or "model"
    return (root or gguf_cache_root()) / f"{stem}-{identity or fingerprint(path)}"


def cached_folder(path: str | Path, root: Path | None = None) -> Path | None:
    """The finished conversion of this file, or None."""
    try:
        folder = cache_folder(path, root)
    except OSError:
        return None
    return folder if (folder / CACHE_MARKER).is_file() else None


def cache_record(folder: str | Path) -> dict:
    try:
        data = json.loads((Path(folder) / CACHE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def drop_cache(path: str | Path, root: Path | None = None) -> int:
    """Delete the converted copy of this GGUF (never the GGUF); returns the bytes freed."""
    from desktop.core.models import folder_size

    folder = cache_folder(path, root)
    if not folder.is_dir():
        return 0
    freed = folder_size(folder)
    shutil.rmtree(folder)
    return freed


def architecture_problem(architecture: str) -> str:
    if architecture in SUPPORTED_ARCHITECTURES:
        return ""
    return (f"its architecture ({architecture or 'not stated'}) is not one transformers can run from a GGUF; "
            f"supported: {', '.join(sorted(SUPPORTED_ARCHITECTURES))}")


def gguf_entry(path: str | Path, source: str, name: str | None = None, root: Path | None = None):
    """A chat-model ModelEntry for a GGUF file (an Ollama blob too); a file that cannot be used says why."""
    from desktop.core.models import CHAT, UNKNOWN, ModelEntry, folder_size

    path = Path(path)
    label = name or path.name.removesuffix(GGUF_SUFFIX)
    try:
        info = read_gguf(path)
    except GgufError as error:
        size = path.stat().st_size if path.exists() else 0
        return ModelEntry(name=label, path=str(path), kind=CHAT, family=UNKNOWN, size_bytes=size, source=source,
                          problem=str(error), quantization="GGUF")
    problem = info.problem or (f"{path.name}: {architecture_problem(info.architecture)}"
                               if architecture_problem(info.architecture) else "")
    cached = cached_folder(path, root)
    return ModelEntry(name=label, path=str(path), kind=CHAT, family=info.architecture or UNKNOWN,
                      size_bytes=info.file_size, source=source, problem=problem,
                      quantization=f"GGUF {info.quantization}".strip(),
                      cache_path=str(cached) if cached else "", cache_bytes=folder_size(cached) if cached else 0)
