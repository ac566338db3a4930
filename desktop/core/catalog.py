"""The curated download catalog shipped in resources/catalog.json: what can be fetched, how big, under which licence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = Path(__file__).resolve().parents[2] / "resources" / "catalog.json"
# the files of a diffusers pipeline (an entry with variant "fp16" takes each weight file as its fp16 variant), no .bin/.ckpt duplicates, no
# single-file copy at the top of the repo, no safety checker (Atelier does not run one)
DIFFUSERS_PATTERNS = [
    "model_index.json", "scheduler/*", "tokenizer/*", "tokenizer_2/*",
    "text_encoder/config.json", "text_encoder/model.safetensors",
    "text_encoder_2/config.json", "text_encoder_2/model.safetensors",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
]


class CatalogError(ValueError):
    """The catalog file is damaged; names the entry and what is wrong."""


@dataclass(frozen=True)
class CatalogEntry:
    """One curated model: where to fetch it, what it is, what it costs in disk and memory."""

    id: str
    title: str
    kind: str
    family: str
    repo_id: str
    revision: str
    patterns: tuple[str, ...]
    size_bytes: int
    licence: str
    ram_gb: float
    vram_gb: float
    description: str = ""
    default_size: int = 512
    steps: int = 0
    guidance: float | None = None
    variant: str = ""  # "fp16": weights fetched as the fp16 variant files (size_bytes counts those)


def _entry(data: dict) -> CatalogEntry:
    name = data.get("id", "?")
    try:
        patterns = DIFFUSERS_PATTERNS if data["patterns"] == "diffusers" else list(data["patterns"])
        memory = data["memory_gb"]
        return CatalogEntry(
            id=str(data["id"]), title=str(data["title"]), kind=str(data["kind"]), family=str(data["family"]),
            repo_id=str(data["repo_id"]), revision=str(data.get("revision", "main")), patterns=tuple(patterns),
            size_bytes=int(data["size_bytes"]), licence=str(data["licence"]), ram_gb=float(memory["ram"]),
            vram_gb=float(memory["vram"]), description=str(data.get("description", "")),
            default_size=int(data.get("default_size", 512)), steps=int(data.get("steps", 0)),
            guidance=None if data.get("guidance") is None else float(data["guidance"]),
            variant=str(data.get("variant", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogError(f"catalog entry {name!r} is malformed ({type(error).__name__}: {error})") from error


def load_catalog(path: str | Path = CATALOG_FILE) -> list[CatalogEntry]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogError(f"the model catalog {path} cannot be read: {error}") from error
    entries = [_entry(item) for item in data.get("models", [])]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise CatalogError("the model catalog has duplicate ids")
    return entries
