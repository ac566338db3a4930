"""Ollama's model store: manifests (one per model:tag) that name their layers, and the blobs they name.

`~/.ollama/models` (or OLLAMA_MODELS) holds `manifests/<registry>/<namespace>/<model>/<tag>`, JSON
with a layer of media type `application/vnd.ollama.image.model` whose digest names the GGUF file in
`blobs/sha256-<hex>` (older versions: `sha256:<hex>`). The blob is used where it lies.
"""

from __future__ import annotations

import json
from pathlib import Path

from desktop.core.models import CHAT, UNKNOWN, ModelEntry

OLLAMA = "Ollama"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_REGISTRY = "registry.ollama.ai"
MAX_MANIFEST_BYTES = 1 << 20


def ollama_name(manifest: Path, manifests: Path) -> str:
    """registry.ollama.ai/library/llama3/latest -> llama3:latest; other namespaces keep their prefix."""
    parts = manifest.relative_to(manifests).parts
    if len(parts) < 3:
        return ":".join(parts)
    *repo, model, tag = parts
    if repo[:2] == [OLLAMA_REGISTRY, "library"]:
        repo = []
    elif repo[:1] == [OLLAMA_REGISTRY]:
        repo = repo[1:]
    return "/".join(repo + [model]) + f":{tag}"


def scan_ollama(models: Path) -> list[ModelEntry]:
    """Ollama's models: each manifest names its model layer, a GGUF blob (blobs/sha256-<hex>)."""
    from desktop.core.gguf_files import gguf_entry

    manifests = models / "manifests"
    entries: list[ModelEntry] = []
    if not manifests.is_dir():
        return entries
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file() and not p.name.startswith(".")):
        name = ollama_name(manifest, manifests)
        try:
            if manifest.stat().st_size > MAX_MANIFEST_BYTES:
                continue
            data = json.loads(manifest.read_text(encoding="utf-8"))
            layers = data.get("layers", []) if isinstance(data, dict) else []
            digest = next(layer["digest"] for layer in layers
                          if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_LAYER)
        except (OSError, ValueError, StopIteration, KeyError, TypeError):
            entries.append(ModelEntry(name, str(manifest), CHAT, UNKNOWN, 0, OLLAMA,
                                      f"Ollama's manifest for {name} names no model file; pull it again in Ollama"))
            continue
        digest = str(digest)
        blob = next((models / "blobs" / candidate for candidate in (digest.replace(":", "-"), digest)
                     if (models / "blobs" / candidate).is_file()), None)
        if blob is None:
            entries.append(ModelEntry(name, str(manifest), CHAT, UNKNOWN, 0, OLLAMA,
                                      f"Ollama's model file for {name} is missing ({digest[:19]}…); pull it again"))
            continue
        entries.append(gguf_entry(blob, OLLAMA, name=name))
    return entries
