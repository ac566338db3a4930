"""Load single-file checkpoints offline, convert them to diffusers folders, and convert trusted pickles.

diffusers' from_single_file guesses a hub repository for the configs unless it is given a local
folder (facts.md), so Atelier always passes one of the weightless skeletons in
resources/model_configs/ and the CLIP tokenizer shipped beside them: no network call, ever.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

from desktop.core.atomic import new_folder_mode
from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.models import SD1, SD2, SDXL, SINGLE_FILE
from desktop.core.pickle_files import TrustList, refusal_message

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "model_configs"
FAMILY_FOLDERS = {SD1: "sd15", SD2: "sd2", SDXL: "sdxl"}


def config_folder(family: str) -> Path:
    """The shipped weightless diffusers config skeleton for a family."""
    if family not in FAMILY_FOLDERS:
        raise CheckpointError(f"Atelier has no configuration for {family} checkpoints; it loads "
                              f"{', '.join(FAMILY_FOLDERS)}")
    return RESOURCES / FAMILY_FOLDERS[family]


def clip_tokenizer(pad_token: str = "<|endoftext|>"):
    """CLIP's BPE tokenizer from the shipped files (see resources/model_configs/make_tokenizer.py)."""
    from transformers import CLIPTokenizer

    # SD 2.x and SDXL's second encoder were trained with OpenCLIP, which pads with "!" (id 0)
    return CLIPTokenizer.from_pretrained(str(RESOURCES / "clip_tokenizer"), pad_token=pad_token,
                                         local_files_only=True)


def quiet() -> None:
    """Loading bars belong in a terminal, not in the app's output."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _pipeline_class(family: str):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    return StableDiffusionXLPipeline if family == SDXL else StableDiffusionPipeline


def _shipped_tokenizers(config: Path, family: str) -> dict:
    """Tokenizers for a config folder that has none on disk (the shipped skeletons)."""
    if (config / "tokenizer").is_dir():
        return {}
    if family == SDXL:
        return {"tokenizer": clip_tokenizer(), "tokenizer_2": clip_tokenizer("!")}
    return {"tokenizer": clip_tokenizer("!" if family == SD2 else "<|endoftext|>")}


def load_single_file(path: str | Path, family: str | None = None, torch_dtype: torch.dtype | None = None,
                     device: str = "cpu", config: str | Path | None = None):
    """A pipeline from one .safetensors checkpoint, fully offline.

    family: detected from the tensors when None. config: a diffusers folder whose configs describe this
    checkpoint (defaults to the shipped skeleton for the family; tests pass the source model's folder).
    """
    path = Path(path)
    info = inspect_file(path)  # refuses pickles and damaged files before torch sees a byte
    quiet()
    if info.kind != SINGLE_FILE:
        raise CheckpointError(f"{path.name} is a {info.kind}, not a whole checkpoint")
    if info.problem:
        raise CheckpointError(f"{path.name}: {info.problem}")
    family = family or info.family
    config = Path(config) if config else config_folder(family)
    kwargs = dict(config=str(config), local_files_only=True, torch_dtype=torch_dtype,
                  **_shipped_tokenizers(config, family))
    if family != SDXL:
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    try:
        pipe = _pipeline_class(family).from_single_file(str(path), **kwargs)
    except (RuntimeError, ValueError, KeyError, OSError) as error:
        reason = str(error).split(". If you")[0][:300]  # diffusers appends advice that does not apply here
        raise CheckpointError(f"{path.name} does not fit the {family} architecture ({reason}); it may be "
                              "another kind of model, or damaged") from error
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def convert_to_diffusers(path: str | Path, out_folder: str | Path, family: str | None = None,
                         config: str | Path | None = None, torch_dtype: torch.dtype | None = None) -> Path:
    """Convert a checkpoint into a diffusers folder that carries its configs with it.

    Not for speed: diffusers 0.42 loads the single file as fast as the folder (benchmarks/single_file_load.py).

    Written into a temporary sibling folder, then renamed into place in one step: an interrupted
    conversion or a full disk leaves nothing half-written under the final name.
    """
    out_folder = Path(out_folder)
    if out_folder.exists():
        raise CheckpointError(f"{out_folder} already exists; choose another name or remove it first")
    pipe = load_single_file(path, family, torch_dtype=torch_dtype, config=config)
    out_folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out_folder.name}.", suffix=".partial", dir=out_folder.parent))
    try:
        pipe.save_pretrained(temp, safe_serialization=True)
        os.chmod(temp, new_folder_mode())  # mkdtemp made it 0700; a model folder is like any other
        os.replace(temp, out_folder)
    except OSError as error:
        shutil.rmtree(temp, ignore_errors=True)
        if error.errno == 28:  # ENOSPC
            raise CheckpointError(f"the disk is full: converting {Path(path).name} needs about "
                                  f"{Path(path).stat().st_size / 1e9:.1f} GB free in {out_folder.parent}") from error
        raise CheckpointError(f"could not write {out_folder}: {error.strerror or error}") from error
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out_folder


def load_trusted_pickle(path: str | Path, trust: TrustList) -> dict:
    """Tensors of a pickle file the user trusted, read with torch.load(weights_only=True) only."""
    path = Path(path)
    if not trust.is_trusted(path):
        raise CheckpointError(refusal_message(path))
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True, mmap=False)
    except Exception as error:  # weights_only refuses anything but tensors and plain containers
        raise CheckpointError(f"{path.name} holds more than plain tensors (torch refused it with weights_only: "
                              f"{str(error).splitlines()[0][:200]}); Atelier will not load it") from error
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} does not hold a dictionary of tensors")
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}


def pickle_to_safetensors(path: str | Path, out_path: str | Path, trust: TrustList) -> Path:
    """Convert a trusted pickle checkpoint into a .safetensors file (atomically)."""
    from safetensors.torch import save

    from desktop.core.atomic import write_bytes_atomic

    tensors = load_trusted_pickle(path, trust)
    # shared or strided storage cannot be written as is; safetensors wants contiguous, unshared tensors
    data = save({k: v.detach().clone().contiguous() for k, v in tensors.items()}, metadata={"format": "pt"})
    write_bytes_atomic(out_path, data)
    return Path(out_path)
