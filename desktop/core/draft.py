"""Drafts and their finish: a TAESD-decoded picture keeps its latents, so the full VAE can decode it later.

Fast mode decodes with TAESD (~1.6 s at 512 px on 2 CPU cores, against ~24 s for the full VAE). The
artist picks a draft and asks for the final (Image > Finish with Full VAE, the gallery's Finish button,
`main.py finish DRAFT.png`): the same latents go through the model's own VAE, no step runs again.

Where the latents live: a small `.safetensors` beside the draft (`00012-42.png` ->
`00012-42.latents.safetensors`, 64 KB at 512 px in float32). Beside the file, not in memory, because a
draft is picked from the gallery, often after the app was closed; next to the PNG, so they move and are
deleted together and need no index. The header records the SHA-256 of the draft PNG the latents belong
to (a picture replaced under the same name is refused by name), the model that made them, and the
recorded parameters. This module reads that header as JSON (safetensors' header is plain JSON after an
8-byte length), so the UI knows what a draft is without torch; the tensors are read by the engine.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.messages import next_job_id
from desktop.core.params import GenerationParams

SUFFIX = ".latents.safetensors"
FORMAT = "atelier-draft-latents/1"
FINISHED_KEY = "Finished from"  # the A1111 field (and params.extra key) naming the draft a final came from
MAX_HEADER = 1 << 20


class DraftError(ValueError):
    """A draft cannot be finished; the message says why and what to do instead."""


def latents_path(image_path: str | Path) -> Path:
    """Where the latents of the draft at `image_path` are kept."""
    path = Path(image_path)
    return path.with_name(path.stem + SUFFIX)


@dataclass(frozen=True)
class DraftInfo:
    """What the header of a draft's latents file says: the picture it belongs to, its model, its params."""

    image_sha256: str
    model_path: str
    model_name: str
    family: str
    params: GenerationParams
    decoder: str  # the TAESD that made the draft's pixels


def read_header(path: str | Path) -> dict:
    """The `__metadata__` of a .safetensors file, without torch; DraftError when it is not one."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size_bytes = handle.read(8)
            if len(size_bytes) != 8:
                raise DraftError(f"{path.name} is not a latents file (too short)")
            (size,) = struct.unpack("<Q", size_bytes)
            if not 0 < size <= MAX_HEADER:
                raise DraftError(f"{path.name} is not a latents file (header of {size} bytes)")
            header = json.loads(handle.read(size).decode("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, DraftError):
            raise
        raise DraftError(f"{path.name} could not be read as a latents file: {error}") from error
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def header_fields(params: GenerationParams, image_sha256: str, model_path: str, model_name: str, family: str,
                  decoder: str) -> dict[str, str]:
    """The metadata written with a draft's latents (safetensors metadata is str -> str)."""
    return {"format": FORMAT, "image_sha256": image_sha256, "model_path": model_path, "model_name": model_name,
            "family": family, "params": json.dumps(params.to_dict(), ensure_ascii=False), "decoder": decoder}


def draft_info(image_path: str | Path) -> DraftInfo:
    """What is known about the draft at `image_path`; DraftError (with what to do) when it cannot be finished."""
    image_path = Path(image_path)
    side = latents_path(image_path)
    try:
        meta = read_header(side)
    except FileNotFoundError:
        raise DraftError(f"{image_path.name} has no saved latents ({side.name} is not beside it): only pictures "
                         "decoded with TAESD keep them. Re-run it with the same seed and the full VAE instead") \
            from None
    if meta.get("format") != FORMAT:
        raise DraftError(f"{side.name} is not an Atelier draft latents file")
    try:
        params = GenerationParams.from_dict(json.loads(meta.get("params", "")))
    except (ValueError, TypeError) as error:
        raise DraftError(f"{side.name} holds unreadable parameters ({error})") from error
    return DraftInfo(meta.get("image_sha256", ""), meta.get("model_path", ""), meta.get("model_name", ""),
                     meta.get("family", ""), params, meta.get("decoder", ""))


def finishable(image_path: str | Path, model_path: str = "") -> DraftInfo:
    """draft_info, checked: the draft is there, unchanged since its latents were kept, its model installed.

    model_path: where that model is now, when it moved (the app finds it by name among the installed ones).
    """
    from desktop.core.pickle_files import file_sha256

    draft = Path(image_path)
    if not draft.is_file():
        raise DraftError(f"the draft {draft.name} is gone from {draft.parent}: re-run it with the same seed")
    info = draft_info(draft)
    if info.image_sha256 and file_sha256(draft) != info.image_sha256:
        raise DraftError(f"{draft.name} was changed since it was made, so its saved latents no longer match it: "
                         "re-run it with the same seed and the full VAE instead")
    if model_path:
        info = dataclasses.replace(info, model_path=model_path)
    if not Path(info.model_path).exists():
        raise DraftError(f"the model that made {draft.name} ({info.model_name}) is no longer at "
                         f"{info.model_path}: install it again to finish this draft")
    return info


def finished_record(info: DraftInfo, draft_name: str) -> dict:
    """What Atelier's JSON record says about a final beside its params: the draft, its hash, both decoders."""
    return {"finished_from": draft_name, "draft_sha256": info.image_sha256, "draft_decoder": info.decoder,
            "decoder": "full VAE"}


def has_latents(image_path: str | Path | None) -> bool:
    return bool(image_path) and latents_path(image_path).is_file()


def finished_params(params: GenerationParams, draft_name: str) -> GenerationParams:
    """What a final records: the draft's parameters with the model's own VAE, and the draft it came from."""
    extra = tuple((k, v) for k, v in params.extra if k != FINISHED_KEY) + ((FINISHED_KEY, draft_name),)
    return params.replace(vae="", extra=extra)


def rerun_params(params: GenerationParams) -> GenerationParams:
    """The draft's job again with the full VAE (same seed and steps): when its latents are gone."""
    return params.replace(vae="", batch_size=1)


@dataclass(frozen=True)
class FinishJob:
    """Decode a draft's saved latents with its model's full VAE and save the final beside the other outputs."""

    draft_path: str
    params: GenerationParams  # the draft's, as recorded (what the panel says while it runs, and a re-run)
    c2pa_key_dir: str = ""
    job_id: int = field(default_factory=next_job_id)
    label: str = "Finishing with the full VAE"
    model_path: str = ""  # the draft's model where it is now, when it is no longer where the draft says
