"""Import a model file into Atelier's models folder: the one path the CLI and the window's worker take.

A whole checkpoint is test-loaded once (so a file of the wrong architecture is refused now, not at the
first generation) and placed in models/checkpoints/ as it is. Converting it to a diffusers folder does
not pay off: benchmarks/single_file_load.py measured the real-size SD 1.5 single file loading as fast
as the converted folder (1.4 s against 1.6 s; tiny: 0.9 s both), while conversion costs ~10 s and
doubles the disk used. Only a checkpoint that needs its own configs (--config) is converted, into
models/imported/, so that the configs travel with it. A LoRA, VAE or TAESD file goes to models/loras,
vae or taesd. A pickle is refused unless the user trusted it, then converted to .safetensors first.
Every write is atomic; a same-disk import is a hard link (no second copy of gigabytes).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from desktop.core.atomic import write_atomic
from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.models import DIFFUSERS, LORA, SINGLE_FILE, TAESD, VAE
from desktop.core.pickle_files import PICKLE_SUFFIXES, TrustList, looks_like_pickle, refusal_message

KIND_FOLDERS = {SINGLE_FILE: "checkpoints", LORA: "loras", VAE: "vae", TAESD: "taesd"}


@dataclass(frozen=True)
class ImportResult:
    """What an import found and where the model now lives."""

    name: str
    kind: str
    family: str
    path: str
    converted_from_pickle: bool = False

    @property
    def summary(self) -> str:
        return f"{self.kind} for {self.family}, imported as {self.name!r} at {self.path}"


def free_name(parent: Path, stem: str, suffix: str = "") -> Path:
    candidate, number = parent / f"{stem}{suffix}", 2
    while candidate.exists():
        candidate, number = parent / f"{stem}-{number}{suffix}", number + 1
    return candidate


def _copy_into(source: Path, target: Path) -> None:
    """A hard link where the disk allows (instant, no space used), else a copy; atomic either way."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.linking")
    try:
        os.link(source, temp)
        os.replace(temp, target)
        return
    except OSError:
        temp.unlink(missing_ok=True)
    with source.open("rb") as reader:
        write_atomic(target, lambda handle: shutil.copyfileobj(reader, handle, 16 * 1024 * 1024))


def import_model_file(path: str | Path, models_dir: str | Path, trust: TrustList | None = None,
                      trust_pickle: bool = False, name: str | None = None,
                      config: str | Path | None = None) -> ImportResult:
    """Import one file; raises CheckpointError with a message a person can act on.

    trust_pickle: the user's explicit opt-in for this one pickle file (recorded in `trust` by content).
    config: a diffusers folder describing the checkpoint when it is not a standard SD 1.x/2.x/XL one
    (the checkpoint is then converted into a diffusers folder that keeps those configs).
    """
    import torch

    from desktop.engine.single_file import convert_to_diffusers, load_single_file, pickle_to_safetensors

    path, models_dir = Path(path), Path(models_dir)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist or is not a file")
    from_pickle = False
    if path.suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path):
        if not trust_pickle or trust is None:
            raise CheckpointError(refusal_message(path))
        trust.trust(path)
        # a hidden intermediate file: discovery skips it, and it is removed whatever happens below
        converted = models_dir / f".{path.stem}.from-pickle.safetensors"
        models_dir.mkdir(parents=True, exist_ok=True)
        pickle_to_safetensors(path, converted, trust)
        path, from_pickle = converted, True
    try:
        info = inspect_file(path)
        if info.problem:
            raise CheckpointError(f"{path.name}: {info.problem}")
        if info.kind not in KIND_FOLDERS:
            raise CheckpointError(f"{path.name} is a {info.kind} file, which Atelier cannot use on its own")
        parent = models_dir / KIND_FOLDERS[info.kind]
        dtype = torch.float16 if info.dtype == "F16" else None  # keep the file's size in memory and on disk
        if info.kind == SINGLE_FILE and config is not None:
            parent = models_dir / "imported"
            target = parent / name if name else free_name(parent, path.stem)
            convert_to_diffusers(path, target, info.family, config=config, torch_dtype=dtype)
        else:
            if info.kind == SINGLE_FILE:
                load_single_file(path, info.family, torch_dtype=dtype)  # refuses a misfit now; then freed
            target = parent / f"{name}.safetensors" if name else free_name(parent, path.stem, ".safetensors")
            if target.exists():
                raise CheckpointError(f"{target} already exists; choose another name")
            _copy_into(path, target)
    finally:
        if from_pickle:
            path.unlink(missing_ok=True)
    if target.is_dir():  # converted: a diffusers folder, listed and loaded as one
        return ImportResult(target.name, DIFFUSERS, info.family, str(target), from_pickle)
    return ImportResult(target.stem, info.kind, info.family, str(target), from_pickle)
