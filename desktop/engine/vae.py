"""A custom VAE or TAESD in place of a pipeline's own: from a diffusers folder or a single .safetensors file."""

from __future__ import annotations

from pathlib import Path

import torch

from desktop.core import json_text
from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.models import TAESD, VAE


def load_vae(path: str | Path, family: str, torch_dtype: torch.dtype | None = None, config: str | Path | None = None):
    """AutoencoderKL or AutoencoderTiny, offline. config: a diffusers folder whose vae/ describes a file
    (defaults to the family's shipped skeleton, so the right scaling factor comes with it)."""
    from diffusers import AutoencoderKL, AutoencoderTiny

    from desktop.engine.single_file import config_folder, quiet

    quiet()
    path = Path(path)
    if path.is_dir():
        try:
            kind = json_text.loads((path / "config.json").read_text(encoding="utf-8")).get("_class_name")
        except (OSError, ValueError) as error:
            raise CheckpointError(f"{path} has no readable config.json: it is not a VAE folder") from error
        cls = {"AutoencoderTiny": AutoencoderTiny, "AutoencoderKL": AutoencoderKL}.get(kind)
        if cls is None:
            raise CheckpointError(f"{path} holds a {kind}, not a VAE or TAESD")
        return cls.from_pretrained(path, local_files_only=True, torch_dtype=torch_dtype).eval()
    info = inspect_file(path)
    if info.kind == TAESD:
        raise CheckpointError(f"{path.name} is a bare TAESD decoder file; use the diffusers-format folder "
                              "(madebyollin/taesd in the catalog) instead")
    if info.kind != VAE:
        raise CheckpointError(f"{path.name} is a {info.kind}, not a VAE")
    if info.problem:
        raise CheckpointError(f"{path.name}: {info.problem}")
    folder = Path(config) if config else config_folder(family)
    try:
        vae = AutoencoderKL.from_single_file(str(path), config=str(folder), subfolder="vae", local_files_only=True,
                                             torch_dtype=torch_dtype)
    except (RuntimeError, ValueError, KeyError, OSError) as error:
        raise CheckpointError(f"{path.name} does not fit the {family} VAE ({str(error)[:200]})") from error
    return vae.eval()


def swap_vae(pipe, vae):
    """Put `vae` into the pipeline (on its device and dtype); returns the previous one to put back."""
    previous = pipe.vae
    pipe.vae = vae.to(device=previous.device, dtype=previous.dtype)
    return previous
