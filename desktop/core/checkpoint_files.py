"""Single model files: read a .safetensors header safely and say what the file holds.

No torch: the header is JSON at the start of the file (8-byte little-endian length, then the JSON),
so kind and family come from tensor names and shapes alone, in milliseconds, even for a 7 GB file.
Pickle formats (.ckpt .pt .pth .bin) are never opened here: see desktop.core.pickle_files.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core import json_text
from desktop.core.models import ANY_SD, CONTROLNET, IP_ADAPTER, LORA, SD1, SD2, SDXL, SINGLE_FILE, TAESD, UNKNOWN, VAE

UNET = "UNet only"
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors format's own limit
DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8,
}
# cross-attention width (the text encoder's hidden size) tells the Stable Diffusion generations apart
CONTEXT_FAMILY = {768: SD1, 1024: SD2, 2048: SDXL}


class CheckpointError(ValueError):
    """A model file that cannot be used, with a message that says what to do."""


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lies in a safetensors file and what shape it has."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    """The parsed header of a .safetensors file: tensors by name, and the free-form metadata."""

    path: str
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str] = field(default_factory=dict)
    file_size: int = 0

    def dominant_dtype(self) -> str:
        weights: dict[str, int] = {}
        for info in self.tensors.values():
            weights[info.dtype] = weights.get(info.dtype, 0) + (info.end - info.start)
        return max(weights, key=weights.get) if weights else ""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a model file holds: kind, family, key layout, and why it cannot be used if it cannot."""

    path: str
    kind: str
    family: str
    layout: str  # "ldm" (original/A1111), "diffusers", "kohya", "peft", "taesd"
    size_bytes: int
    dtype: str = ""
    problem: str = ""


def read_header(path: str | Path) -> SafetensorsHeader:
    """Parse and check a .safetensors header; raise CheckpointError saying what is wrong and what to do."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if size == 0:
                raise CheckpointError(f"{path.name} is empty (0 bytes): the download or copy did not finish; "
                                      "fetch the file again")
            if len(prefix) < 8:
                raise CheckpointError(f"{path.name} is truncated ({size} bytes): fetch the file again")
            (length,) = struct.unpack("<Q", prefix)
            if length < 2 or length > MAX_HEADER_BYTES:
                raise CheckpointError(f"{path.name} is not a valid .safetensors file: its header length "
                                      f"({length} bytes) is impossible; the file is corrupt or of another format")
            if 8 + length > size:
                raise CheckpointError(f"{path.name} is truncated: its header alone needs {8 + length} bytes but "
                                      f"the file has {size}; fetch the file again")
            raw = handle.read(length)
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        data = json_text.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{path.name} has a corrupt header (not JSON: {error}); the file is damaged, "
                              "fetch it again") from error
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} has a corrupt header (not a JSON object); fetch it again")
    metadata = data.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{path.name} has a corrupt header (its metadata is not text); the safetensors "
                              "library refuses it too: fetch the file again")
    data_size = size - 8 - length
    tensors: dict[str, TensorInfo] = {}
    for name, entry in data.items():
        tensors[name] = _tensor_info(path.name, name, entry, data_size)
    if not tensors:
        raise CheckpointError(f"{path.name} holds no tensors: it is not a model")
    needed = max(info.end for info in tensors.values())
    if needed > data_size:
        raise CheckpointError(f"{path.name} is truncated: it should hold {needed + 8 + length:,} bytes but has "
                              f"{size:,}; the download or copy did not finish, fetch it again")
    _check_layout(path.name, tensors, data_size)
    return SafetensorsHeader(str(path), tensors, {str(k): str(v) for k, v in metadata.items()}, size)


def _check_layout(file_name: str, tensors: dict[str, TensorInfo], data_size: int) -> None:
    """The rules the safetensors library applies before it loads a byte: the tensors, in offset order,
    tile the data exactly, from 0 to the end of the file, without gaps or overlaps."""
    expected = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start != expected:
            what = "overlaps another" if info.start < expected else "leaves a gap before it"
            raise CheckpointError(f"{file_name} has a corrupt header (tensor {name!r} {what}); the safetensors "
                                  "library refuses such a file: fetch it again")
        expected = info.end
    if expected != data_size:
        raise CheckpointError(f"{file_name} has {data_size - expected:,} bytes after its last tensor; the "
                              "safetensors library refuses such a file: fetch it again")


def _tensor_info(file_name: str, name: str, entry, data_size: int) -> TensorInfo:
    bad = f"{file_name} has a corrupt header (tensor {name!r} is malformed); the file is damaged, fetch it again"
    if not isinstance(entry, dict):
        raise CheckpointError(bad)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BYTES or not isinstance(shape, list) or not isinstance(offsets, list) or len(offsets) != 2:
        raise CheckpointError(bad)
    # JSON true/false are ints to Python (True == 1); to the safetensors library they are not numbers
    if not all(type(v) is int and v >= 0 for v in shape + offsets) or offsets[1] < offsets[0]:
        raise CheckpointError(bad)
    if (offsets[1] - offsets[0]) != math.prod(shape) * DTYPE_BYTES[dtype]:
        raise CheckpointError(bad)
    return TensorInfo(dtype, tuple(shape), offsets[0], offsets[1])


def context_width(tensors: dict[str, TensorInfo], suffixes: tuple[str, ...], axis: int) -> int:
    for name, info in tensors.items():
        if name.endswith(suffixes) and len(info.shape) > axis:
            return info.shape[axis]
    return 0


def _lora_family(header: SafetensorsHeader) -> str:
    tensors = header.tensors
    # the down/A matrix of a cross-attention key projection is (rank, context width)
    width = context_width(tensors, ("attn2_to_k.lora_down.weight", "attn2.to_k.lora_A.weight",
                                     "attn2.to_k.lora.down.weight", "attn2.to_k.lora_A.default.weight"), 1)
    if width in CONTEXT_FAMILY:
        return CONTEXT_FAMILY[width]
    base = header.metadata.get("ss_base_model_version", "").lower()
    if "xl" in base:
        return SDXL
    if base.startswith("sd_v1"):
        return SD1
    if base.startswith("sd_v2"):
        return SD2
    if any(n.startswith(("lora_te1_", "lora_te2_", "text_encoder_2.")) for n in tensors):
        return SDXL
    return UNKNOWN


def describe(header: SafetensorsHeader) -> tuple[str, str, str, str]:
    """(kind, family, layout, problem) from tensor names and shapes."""
    tensors = header.tensors
    names = list(tensors)
    if any(("lora_down" in n or "lora_up" in n or ".lora_A." in n or ".lora_B." in n or ".lora.down." in n)
           for n in names):
        layout = "kohya" if any(n.startswith("lora_") for n in names) else "peft"
        return LORA, _lora_family(header), layout, ""
    if any(n.startswith("model.diffusion_model.") for n in names):
        return (SINGLE_FILE, *_ldm_family(header))
    steering = _steering_file(tensors)
    if steering is not None:
        return steering
    if any(n.startswith(("decoder.layers.", "encoder.layers.")) for n in names) or _is_raw_taesd(names):
        return TAESD, ANY_SD, "taesd", ""
    if any(n.startswith(("decoder.up.", "decoder.up_blocks.", "first_stage_model.decoder.")) for n in names) and \
            not any(n.startswith(("down_blocks.", "model.")) for n in names):
        latent = context_width(tensors, ("post_quant_conv.weight",), 1)
        if latent and latent != 4:
            return VAE, UNKNOWN, "ldm", f"this VAE has {latent}-channel latents; Atelier's models use 4"
        return VAE, ANY_SD, "diffusers" if any("up_blocks" in n for n in names) else "ldm", ""
    if "conv_in.weight" in tensors and any(n.startswith("down_blocks.") for n in names):
        width = context_width(tensors, ("attn2.to_k.weight",), 1)
        family = SDXL if any(n.startswith("add_embedding.") for n in names) else CONTEXT_FAMILY.get(width, UNKNOWN)
        return UNET, family, "diffusers", ("this file holds a UNet alone; Atelier needs a whole checkpoint (UNet, "
                                           "VAE and text encoder in one file) or a diffusers folder")
    if any(n.startswith(("joint_blocks.", "double_blocks.", "model.diffusion_model.joint_blocks.")) for n in names):
        return SINGLE_FILE, UNKNOWN, "other", "this is an SD3/Flux-style model, which Atelier does not support yet"
    return SINGLE_FILE, UNKNOWN, "other", ("not a Stable Diffusion checkpoint, LoRA or VAE that Atelier knows "
                                           "(no UNet, LoRA or VAE tensors found)")


def _steering_file(tensors: dict[str, TensorInfo]) -> tuple[str, str, str, str] | None:
    """(kind, family, layout, problem) of a single-file ControlNet or IP-Adapter; None for anything else."""
    names = list(tensors)
    if any("controlnet_cond_embedding." in n or "input_hint_block." in n for n in names):
        layout = "diffusers" if any("controlnet_cond_embedding." in n for n in names) else "ldm"
        if any(n.startswith(("add_embedding.", "label_emb.", "control_model.label_emb.")) for n in names):
            family = SDXL
        else:
            family = CONTEXT_FAMILY.get(context_width(tensors, ("attn2.to_k.weight",), 1), UNKNOWN)
        return CONTROLNET, family, layout, ""
    if any(n.startswith("image_proj.") for n in names) and any(n.startswith("ip_adapter.") for n in names):
        family = CONTEXT_FAMILY.get(context_width(tensors, ("ip_adapter.1.to_k_ip.weight",), 1), UNKNOWN)
        first = tensors.get("image_proj.proj.0.weight")
        if first is not None and len(first.shape) == 2 and first.shape[1] == 512:
            return IP_ADAPTER, family, "faceid", ("this is a FaceID IP-Adapter: it reads insightface face embeddings, "
                                                   "which Atelier does not compute; use a plus-face or full-face adapter")
        return IP_ADAPTER, family, "ip-adapter", ""
    return None


def _is_raw_taesd(names: list[str]) -> bool:
    # madebyollin's taesd_decoder.safetensors: a bare nn.Sequential ("1.weight", "3.conv.0.weight", ...)
    return bool(names) and all(n.split(".", 1)[0].isdigit() for n in names)


def _ldm_family(header: SafetensorsHeader) -> tuple[str, str, str]:
    tensors = header.tensors
    names = list(tensors)
    conv_in = tensors.get("model.diffusion_model.input_blocks.0.0.weight")
    problem = ""
    if conv_in is not None and len(conv_in.shape) == 4 and conv_in.shape[1] != 4:
        problem = (f"this checkpoint's UNet takes {conv_in.shape[1]} input channels (an inpainting or "
                   "instruct model); Atelier loads only standard 4-channel text-to-image checkpoints for now")
    if any(n.startswith("conditioner.embedders.1.") for n in names) or \
            "model.diffusion_model.label_emb.0.0.weight" in tensors:
        family = SDXL
    elif any(n.startswith("cond_stage_model.model.") for n in names):
        family = SD2
    elif any(n.startswith("cond_stage_model.transformer.") for n in names):
        family = SD1
    else:
        family = CONTEXT_FAMILY.get(context_width(tensors, ("attn2.to_k.weight",), 1), UNKNOWN)
    if not any(n.startswith(("first_stage_model.", "cond_stage_model.", "conditioner.")) for n in names):
        problem = problem or ("this checkpoint has no VAE or text encoder inside (a pruned UNet-only file); "
                              "Atelier needs a whole checkpoint")
    if family == UNKNOWN and not problem:
        problem = "the Stable Diffusion generation of this checkpoint could not be told from its tensors"
    return family, "ldm", problem


def inspect_file(path: str | Path) -> CheckpointInfo:
    """What a model file is; raises CheckpointError for pickles, damaged files and unknown formats."""
    from desktop.core.pickle_files import PICKLE_SUFFIXES, looks_like_pickle, refusal_message

    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path):
        raise CheckpointError(refusal_message(path))
    if path.suffix.lower() != ".safetensors":
        raise CheckpointError(f"{path.name}: Atelier imports .safetensors model files; this one is "
                              f"{path.suffix or 'without an extension'}")
    header = read_header(path)
    kind, family, layout, problem = describe(header)
    return CheckpointInfo(str(path), kind, family, layout, header.file_size, header.dominant_dtype(), problem)


def file_entry(path: str | Path, source: str, kind_hint: str = SINGLE_FILE):
    """A ModelEntry for one model file; a file that cannot be used is listed with the reason."""
    from desktop.core.models import ModelEntry

    path = Path(path)
    try:
        info = inspect_file(path)
    except CheckpointError as error:
        size = path.stat().st_size if path.exists() else 0
        return ModelEntry(name=path.stem, path=str(path), kind=kind_hint, family=UNKNOWN, size_bytes=size,
                          source=source, problem=str(error))
    return ModelEntry(name=path.stem, path=str(path), kind=info.kind, family=info.family,
                      size_bytes=info.size_bytes, source=source, problem=info.problem)
