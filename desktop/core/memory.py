"""How much memory a model needs at a size, how much is free, and how to run it: device, dtype, offload.

Weights come from the safetensors headers (element counts, so a file stored in fp16 is counted at the
dtype it will be loaded in); activations from the resolution, for the two peaks of a generation: the
UNet at latent size (batch 2 with guidance) and the VAE decode at full size. Figures measured with
benchmarks/memory_estimate.py on this kind of machine; tests/core/test_memory.py holds them to 20%.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.core import json_text
from desktop.core.checkpoint_files import DTYPE_BYTES, CheckpointError, read_header
from desktop.core.models import SDXL

GB = 1024 ** 3
MB = 1024 ** 2
# Python/torch objects per loaded tensor (Parameter, its module's share): ~1.6 MB for the 600 tensors of
# the tiny pipeline, measured by loading it three times in one process
PER_TENSOR_BYTES = 2800
# one-time cost of the first load and the first generation in a process: lazily imported modeling code,
# oneDNN kernels and thread pools (~16 MB + ~18 MB measured); paid once, whatever the model
RUNTIME_BYTES = 34 * MB
# activations alive at the peak, as multiples of one feature map of the first block's width (measured
# with VmHWM on the tiny pipeline at 256 and 512 px: UNet ~32 latent-size maps per batch item, attention
# workspace included; VAE decode 5.0-5.5 full-size maps at 256-512 px once glibc's moving mmap threshold
# is pinned, which otherwise adds allocator slack by chance)
UNET_MAPS = 32
VAE_MAPS = 5.5
OFFLOADS = ("none", "model", "sequential")


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a model needs: its weights, the largest single component, and the activations at a size."""

    weights: int
    largest_component: int
    activations: int
    overhead: int

    @property
    def total(self) -> int:
        return self.weights + self.activations + self.overhead


@dataclass(frozen=True)
class MemoryPlan:
    """Where and how to run a model, and a sentence for the status bar that says why."""

    device: str
    dtype: str  # "float32" / "float16"
    offload: str  # one of OFFLOADS
    fits: bool
    reason: str
    vae_fp32_fallback: bool = False  # re-decode in fp32 when an fp16 decode gives NaN (a black image)


def _weight_files(path: Path) -> dict[str, list[Path]]:
    """Weight files by component ("unet", "vae", ...); a single file counts as one component."""
    if path.is_file():
        return {path.stem: [path]}
    parts: dict[str, list[Path]] = {}
    for file in sorted(path.rglob("*.safetensors")):
        if file.name.startswith(".") or ".fp16." in file.name and (file.parent / file.name.replace(".fp16", "")).exists():
            continue  # an fp16 variant beside the full file is not loaded as well
        component = file.parent.name if file.parent != path else file.stem
        parts.setdefault(component, []).append(file)
    return parts


def weight_bytes(path: str | Path, dtype_bytes: int | None = None) -> tuple[int, int, int]:
    """(total bytes, largest component bytes, tensor count) once loaded; dtype_bytes None: as stored."""
    totals: dict[str, int] = {}
    tensors = 0
    for component, files in _weight_files(Path(path)).items():
        for file in files:
            header = read_header(file)
            for info in header.tensors.values():
                stored = DTYPE_BYTES[info.dtype]
                count = (info.end - info.start) // stored
                # floating weights take the load dtype; integer buffers (position ids) stay as they are
                size = dtype_bytes if dtype_bytes and info.dtype.startswith(("F", "BF")) else stored
                totals[component] = totals.get(component, 0) + count * size
                tensors += 1
    if not totals:
        raise CheckpointError(f"{path} holds no .safetensors weights to measure")
    return sum(totals.values()), max(totals.values()), tensors


def activation_bytes(family: str, width: int, height: int, dtype_bytes: int = 4, batch: int = 1,
                     guidance: bool = True, unet_channels: int = 320, vae_channels: int = 128) -> int:
    """Peak activations of one generation: the larger of the UNet pass and the VAE decode."""
    latent = (width // 8) * (height // 8)
    unet = UNET_MAPS * batch * (2 if guidance else 1) * unet_channels * latent * dtype_bytes
    vae = int(VAE_MAPS * batch * vae_channels * width * height * dtype_bytes)
    if family == SDXL:
        unet = int(unet * 1.5)  # transformer depth 10 in the lowest block keeps more alive
    return max(unet, vae)


def _first_width(config: Path, default: int) -> int:
    try:
        return int(json_text.loads(config.read_text(encoding="utf-8"))["block_out_channels"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return default


def estimate(path: str | Path, family: str, width: int, height: int, dtype_bytes: int = 4, batch: int = 1,
             first_in_process: bool = False) -> MemoryEstimate:
    """Memory to load the model at `path` (diffusers folder or single file) and generate at width x height."""
    path = Path(path)
    unet_channels = _first_width(path / "unet" / "config.json", 320)  # SD 1.x, 2.x and XL all start at 320
    vae_channels = _first_width(path / "vae" / "config.json", 128)
    weights, largest, tensors = weight_bytes(path, dtype_bytes)
    overhead = tensors * PER_TENSOR_BYTES + (RUNTIME_BYTES if first_in_process else 0)
    return MemoryEstimate(weights, largest, activation_bytes(family, width, height, dtype_bytes, batch,
                                                             unet_channels=unet_channels, vae_channels=vae_channels),
                          overhead)


def available_memory() -> int:
    """RAM that can be used now without swapping (psutil's `available`)."""
    import psutil

    return int(psutil.virtual_memory().available)


def _gb(count: int) -> str:
    return f"{count / GB:.1f} GB"


def plan(full: MemoryEstimate, half: MemoryEstimate, device: str, free_ram: int, free_vram: int = 0) -> MemoryPlan:
    """Choose dtype and offload. full/half: the same model estimated in fp32 and fp16.

    device: "cuda", "mps" or "cpu" (what the engine found). A margin of 10% stays free for the rest.
    """
    margin = 0.9
    if device == "cuda":
        if half.total <= free_vram * margin:
            return MemoryPlan("cuda", "float16", "none", True,
                              f"GPU, float16: needs {_gb(half.total)} of {_gb(free_vram)} free VRAM", True)
        if half.largest_component + half.activations <= free_vram * margin and half.weights <= free_ram * margin:
            return MemoryPlan("cuda", "float16", "model", True,
                              f"GPU, float16, model offload: {_gb(half.total)} does not fit in {_gb(free_vram)} "
                              "free VRAM, so each part moves to the GPU only while it runs (slower)", True)
        if half.weights <= free_ram * margin:
            return MemoryPlan("cuda", "float16", "sequential", True,
                              f"GPU, float16, sequential offload: even one part does not fit in {_gb(free_vram)} "
                              "free VRAM, so layers stream to the GPU one by one (much slower)", True)
        return MemoryPlan("cuda", "float16", "sequential", False,
                          f"needs {_gb(half.weights)} of RAM to offload but {_gb(free_ram)} is free: close other "
                          "programs or choose a smaller model", True)
    if device == "mps":  # unified memory: RAM is VRAM
        fits = half.total <= free_ram * margin
        return MemoryPlan("mps", "float16", "none", fits,
                          f"Apple GPU, float16: needs {_gb(half.total)} of {_gb(free_ram)} free memory"
                          + ("" if fits else ": close other programs or pick a smaller size"), True)
    fits = full.total <= free_ram * margin
    reason = f"CPU, float32 (half precision is slow on CPUs): needs {_gb(full.total)} of {_gb(free_ram)} free RAM"
    if not fits:
        reason += "; it will swap or fail: close other programs, lower the size, or pick a smaller model"
    return MemoryPlan("cpu", "float32", "none", fits, reason)
