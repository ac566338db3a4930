"""Model discovery: find the models a user has, say what each is, and what is wrong with a broken one.

Sources: the app's models folder, folders the user added, and the Hugging Face cache
(models--org--name/snapshots/<rev>/). Only reads small JSON files; never imports torch or the hub.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from desktop.core import json_text

# kinds
DIFFUSERS = "checkpoint"  # a diffusers-format folder (model_index.json)
SINGLE_FILE = "checkpoint file"  # one .safetensors checkpoint
CHAT = "chat model"
LORA = "LoRA"
VAE = "VAE"
TAESD = "TAESD"
CONTROLNET = "ControlNet"  # found in other apps' ControlNet folders (Settings > Model folders)
UPSCALER = "upscaler"  # ESRGAN-family files in upscale_models/ (ComfyUI) or ESRGAN/ (A1111): desktop.core.upscalers
IP_ADAPTER = "IP-Adapter"
IMAGE_ENCODER = "image encoder"  # a CLIP vision model that IP-Adapters read reference images with
DEPTH_ESTIMATOR = "depth estimator"  # a transformers depth-estimation folder (DPT, Depth Anything, ...)
POSE_ESTIMATOR = "pose estimator"  # a transformers ViTPose folder
STEERING_KINDS = (CONTROLNET, IP_ADAPTER, IMAGE_ENCODER, DEPTH_ESTIMATOR, POSE_ESTIMATOR)

# families
SD1 = "SD 1.x"
SD2 = "SD 2.x"
SDXL = "SDXL"
UNKNOWN = "unknown"

IMAGE_KINDS = (DIFFUSERS, SINGLE_FILE)
ANY_SD = "SD 1.x / 2.x / SDXL"  # VAEs and TAESDs with 4-channel latents fit every SD generation
MODEL_FILE_SUFFIXES = {".safetensors", ".ckpt", ".pt", ".pth"}  # pickles are listed, with why they are refused
_KIND_SUBFOLDERS = {"checkpoints": SINGLE_FILE, "imported": DIFFUSERS, "loras": LORA, "vae": VAE, "taesd": TAESD,
                    "upscale_models": UPSCALER, "ESRGAN": UPSCALER,
                    "controlnet": CONTROLNET, "ipadapter": IP_ADAPTER, "clip_vision": IMAGE_ENCODER,
                    "preprocessors": DEPTH_ESTIMATOR}
# subfolders of the models folder that hold other things than whole models
RESERVED_SUBFOLDERS = {"loras", "vae", "taesd", "checkpoints", "imported", "downloads", "upscale_models", "ESRGAN",
                       "controlnet", "ipadapter", "clip_vision", "preprocessors"}

_SDXL_PIPELINES = {"StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline"}
_SD_PIPELINES = {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline"}
_REQUIRED_SD = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")


@dataclass(frozen=True)
class ModelEntry:
    """One model on disk: what it is, where it lives, and whether it can be used."""

    name: str
    path: str
    kind: str
    family: str = UNKNOWN
    size_bytes: int = 0
    source: str = "models folder"
    problem: str = ""  # empty when the model is complete and usable offline
    quantization: str = ""  # GGUF chat models: "GGUF Q4_K_M"
    cache_path: str = ""  # GGUF chat models: the converted safetensors copy, once made
    cache_bytes: int = 0

    @property
    def usable(self) -> bool:
        return not self.problem


def _read_json(path: Path) -> dict | None:
    try:
        data = json_text.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size  # follows HF cache symlinks
            except OSError:
                pass
    return total


def _has_weights(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    return any(
        p.suffix in (".safetensors", ".bin") and p.stat().st_size > 0 for p in folder.iterdir() if p.exists()
    )


def diffusers_family(folder: Path) -> str:
    index = _read_json(folder / "model_index.json") or {}
    cls = index.get("_class_name", "")
    if cls in _SDXL_PIPELINES or "text_encoder_2" in index:
        return SDXL
    unet = _read_json(folder / "unet" / "config.json") or {}
    if unet.get("addition_embed_type") == "text_time":
        return SDXL
    if cls in _SD_PIPELINES or unet:
        return SD2 if unet.get("cross_attention_dim") == 1024 else SD1
    return UNKNOWN


def weights_variant(folder: Path) -> str | None:
    """"fp16" when a diffusers folder holds only the fp16 variant files (`*.fp16.safetensors`, as Atelier's
    downloads fetch them: half the bytes), None when it holds the plain ones; from_pretrained needs to know."""
    unet = Path(folder) / "unet"
    names = [p.name for p in unet.iterdir()] if unet.is_dir() else []
    plain = any(n.endswith((".safetensors", ".bin")) and ".fp16" not in n for n in names)
    return "fp16" if not plain and any(".fp16" in n and n.endswith(".safetensors") for n in names) else None


def check_diffusers_folder(folder: Path) -> str:
    """Empty string when the folder is a complete pipeline, otherwise what is missing."""
    index = _read_json(folder / "model_index.json")
    if index is None:
        return f"{folder} has no readable model_index.json: it is not a diffusers model folder"
    family = diffusers_family(folder)
    required = list(_REQUIRED_SD) + (["text_encoder_2", "tokenizer_2"] if family == SDXL else [])
    missing = []
    for part in required:
        sub = folder / part
        if part in ("tokenizer", "tokenizer_2", "scheduler"):
            if not sub.is_dir() or not any(sub.iterdir()):
                missing.append(part)
        elif not (sub / "config.json").exists() or not _has_weights(sub):
            missing.append(f"{part} weights")
    if missing:
        return f"{folder} is incomplete (half-copied?): missing {', '.join(missing)}"
    return ""


def check_chat_folder(folder: Path) -> str:
    config = _read_json(folder / "config.json") or {}
    if not any(str(a).endswith("ForCausalLM") for a in config.get("architectures", [])):
        return f"{folder} is not a causal language model"
    if not _has_weights(folder):
        return f"{folder} has no weights (.safetensors)"
    tok = _read_json(folder / "tokenizer_config.json") or {}
    if not tok.get("chat_template") and not (folder / "chat_template.jinja").exists():
        return f"{folder} has no chat template: Atelier will use a plain ChatML template"
    return ""


def identify_folder(folder: Path, name: str, source: str) -> ModelEntry | None:
    """Say what a folder holds, or None when it holds no model at all."""
    if (folder / "model_index.json").exists():
        return ModelEntry(
            name=name, path=str(folder), kind=DIFFUSERS, family=diffusers_family(folder),
            size_bytes=folder_size(folder), source=source, problem=check_diffusers_folder(folder),
        )
    config = _read_json(folder / "config.json")
    steering = _steering_entry(folder, name, source, config or {})
    if steering is not None:
        return steering
    if config and config.get("_class_name") in ("AutoencoderTiny", "AutoencoderKL"):
        kind = TAESD if config["_class_name"] == "AutoencoderTiny" else VAE
        latent = config.get("latent_channels", 4)
        return ModelEntry(name=name, path=str(folder), kind=kind, family=ANY_SD if latent == 4 else UNKNOWN,
                          size_bytes=folder_size(folder), source=source,
                          problem="" if _has_weights(folder) else f"{folder} has no weights (.safetensors)")
    if config and any(str(a).endswith("ForCausalLM") for a in config.get("architectures", [])):
        problem = check_chat_folder(folder)
        # a missing template is a warning, not a refusal
        usable_problem = "" if problem.endswith("plain ChatML template") else problem
        return ModelEntry(name=name, path=str(folder), kind=CHAT, family=str(config.get("model_type", UNKNOWN)),
                          size_bytes=folder_size(folder), source=source, problem=usable_problem)
    return None


def controlnet_family(config: dict) -> str:
    """SD 1.x / 2.x / SDXL of a ControlNet from its config (tiny test models: unknown, checked by width)."""
    if config.get("addition_embed_type") == "text_time":
        return SDXL
    return {768: SD1, 1024: SD2}.get(config.get("cross_attention_dim"), UNKNOWN)


def _steering_entry(folder: Path, name: str, source: str, config: dict) -> ModelEntry | None:
    """A ControlNet folder, a CLIP image encoder or a depth estimator; None for anything else."""
    architectures = [str(a) for a in config.get("architectures", [])]
    if config.get("_class_name") == "ControlNetModel":
        kind, family = CONTROLNET, controlnet_family(config)
    elif "CLIPVisionModelWithProjection" in architectures:
        kind, family = IMAGE_ENCODER, UNKNOWN
    elif any(a.endswith("ForDepthEstimation") for a in architectures):
        kind, family = DEPTH_ESTIMATOR, UNKNOWN
    elif "VitPoseForPoseEstimation" in architectures:
        kind, family = POSE_ESTIMATOR, UNKNOWN
    else:
        return None
    problem = "" if _has_weights(folder) else f"{folder} has no weights (.safetensors)"
    return ModelEntry(name=name, path=str(folder), kind=kind, family=family, size_bytes=folder_size(folder),
                      source=source, problem=problem)


def _scan_folder(root: Path, source: str) -> list[ModelEntry]:
    entries: list[ModelEntry] = []
    if not root.is_dir():
        return entries
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_file() and child.suffix.lower() == ".gguf":  # a chat model (llama.cpp's format)
            from desktop.core.gguf_files import gguf_entry

            entries.append(gguf_entry(child, source))
            continue
        if child.is_file() and child.suffix.lower() in MODEL_FILE_SUFFIXES:
            from desktop.core.checkpoint_files import file_entry

            entries.append(file_entry(child, source))
            continue
        if child.is_dir() and child.name in _KIND_SUBFOLDERS:
            entries += _scan_kind_folder(child, source, _KIND_SUBFOLDERS[child.name])
            continue
        if child.is_dir():
            entry = identify_folder(child, child.name, source)
            if entry is not None:
                entries.append(entry)
            elif child.name not in RESERVED_SUBFOLDERS and any(child.iterdir()):
                entries.append(ModelEntry(
                    name=child.name, path=str(child), kind=DIFFUSERS, source=source,
                    problem=f"{child} is not a model folder: it has neither model_index.json (image "
                            "model) nor config.json (chat model)"))
    return entries


def _scan_kind_folder(folder: Path, source: str, kind: str, depth: int = 0) -> list[ModelEntry]:
    """models/checkpoints, loras, vae, taesd: single files, and folders (imported or downloaded)."""
    from desktop.core.checkpoint_files import file_entry

    entries: list[ModelEntry] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):  # includes half-written conversions (.name.partial)
            continue
        if kind == UPSCALER:  # spandrel tells the architecture at load time; listed by name here
            if child.is_file() and child.suffix.lower() in (".safetensors", ".pth", ".pt"):
                entries.append(ModelEntry(name=child.stem, path=str(child), kind=UPSCALER, family="upscaler",
                                          size_bytes=child.stat().st_size, source=source))
            continue
        if child.is_file() and child.suffix.lower() in MODEL_FILE_SUFFIXES | {".bin"}:
            entries.append(file_entry(child, source, kind))
        elif child.is_dir():
            entry = identify_folder(child, child.name, source)
            if entry is not None:
                entries.append(entry)
            elif kind in STEERING_KINDS and depth < 2:  # h94/IP-Adapter keeps the image encoder a folder down
                entries += _scan_kind_folder(child, source, kind, depth + 1)
    return entries


def _scan_hf_cache(cache: Path) -> list[ModelEntry]:
    entries: list[ModelEntry] = []
    if not cache.is_dir():
        return entries
    for repo in sorted(cache.glob("models--*")):
        snapshots = repo / "snapshots"
        if not snapshots.is_dir():
            continue
        revisions = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        name = repo.name[len("models--"):].replace("--", "/")
        for rev in revisions:
            entry = identify_folder(rev, name, "Hugging Face cache")
            if entry is not None:
                entries.append(entry)
                break
            loras = _cached_loras(rev, name)
            if loras:
                entries += loras
                break
    return entries


def _cached_loras(snapshot: Path, repo: str) -> list[ModelEntry]:
    """LoRA files a catalog download put in the cache (lcm-lora-sdv1-5, Hyper-SD files): listed by name.

    A file called `pytorch_lora_weights` takes its repository's name (latent-consistency/lcm-lora-sdv1-5
    -> lcm-lora-sdv1-5), so Fast mode and `<lora:...>` tags can find it."""
    from dataclasses import replace

    from desktop.core.checkpoint_files import file_entry

    found = []
    for child in sorted(snapshot.glob("*.safetensors")):
        entry = file_entry(child, "Hugging Face cache", LORA)
        if entry.kind == LORA:
            name = repo.rsplit("/", 1)[-1] if child.stem == "pytorch_lora_weights" else child.stem
            found.append(replace(entry, name=name))
    return found


def pick_taesd(entries, family: str) -> "ModelEntry | None":
    """The TAESD for this family among the user's models: TAESDXL for SDXL, plain TAESD otherwise."""
    usable = [e for e in entries if e.kind == TAESD and e.usable]
    wants_xl = family == SDXL
    matching = [e for e in usable if ("xl" in Path(e.path).name.lower()) == wants_xl]
    return matching[0] if matching else None


def discover_models(folders: list[Path], hf_cache: Path | None = None) -> list[ModelEntry]:
    """Every model in the given folders (the first is the app's models folder) and the HF cache."""
    from desktop.core.model_folders import identify, scan_linked

    entries: list[ModelEntry] = []
    for index, folder in enumerate(folders):
        # another app's folder (A1111, ComfyUI, Ollama…) is scanned with that app's layout, in place
        linked = identify(folder) if index else None
        if linked is not None:
            entries += scan_linked(linked)
            continue
        entries += _scan_folder(Path(folder), "models folder" if index == 0 else f"folder {folder}")
    if hf_cache is not None:
        entries += _scan_hf_cache(hf_cache)
    return entries


def resolve_model(ref: str, entries: list[ModelEntry]) -> ModelEntry:
    """Find a model by path or by name (exact, then case-insensitive); raise LookupError with advice."""
    path = Path(ref).expanduser()
    if path.exists():
        if path.is_dir():
            entry = identify_folder(path.resolve(), path.name, "path")
            if entry is None:
                raise LookupError(
                    f"{path} is not a model folder: it has neither model_index.json (image model) nor "
                    "config.json (chat model)")
            return entry
        from desktop.core.gguf_files import gguf_entry, is_gguf

        if is_gguf(path):  # a GGUF chat model is used where it lies (converted once into the GGUF cache)
            return gguf_entry(path.resolve(), "path")
        raise LookupError(f"{path} is a file; import single-file checkpoints with 'main.py models import {path}'")
    for match in (lambda e: e.name == ref, lambda e: e.name.lower() == ref.lower()):
        found = [e for e in entries if match(e)]
        if found:
            return found[0]
    names = ", ".join(sorted({e.name for e in entries})) or "none found"
    raise LookupError(f"no model named {ref!r}; known models: {names}")
