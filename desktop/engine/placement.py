"""Put a pipeline where it fits: measure free RAM/VRAM, plan dtype and offload, and rescue fp16 NaN decodes.

The plan itself is plain arithmetic in desktop.core.memory; this module adds what needs torch: the
GPU's free memory, the offload calls, and the VAE fallback (an fp16 VAE can overflow to NaN and give
a black image; SD 1.x and SDXL's original VAEs both do at times).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from desktop.core.memory import MemoryPlan, available_memory, estimate, plan

log = logging.getLogger(__name__)


def gpu_free_memory() -> int:
    if not torch.cuda.is_available():
        return 0
    free, _total = torch.cuda.mem_get_info()
    return int(free)


def make_plan(model_path: str | Path, family: str, width: int, height: int, device: str, batch: int = 1) -> MemoryPlan:
    """The plan for this model at this size on `device` ("cuda", "mps" or "cpu", from pick_device())."""
    full = estimate(model_path, family, width, height, dtype_bytes=4, batch=batch)
    half = estimate(model_path, family, width, height, dtype_bytes=2, batch=batch)
    return plan(full, half, device, available_memory(), gpu_free_memory() if device == "cuda" else 0)


def torch_dtype(memory_plan: MemoryPlan) -> torch.dtype:
    return torch.float16 if memory_plan.dtype == "float16" else torch.float32


def place(pipe, memory_plan: MemoryPlan):
    """Move the pipeline (loaded in the plan's dtype) to its device, or set up the planned offload."""
    if memory_plan.offload == "model":
        pipe.enable_model_cpu_offload()
    elif memory_plan.offload == "sequential":
        pipe.enable_sequential_cpu_offload()
    elif memory_plan.device != "cpu":
        pipe.to(memory_plan.device)
    return pipe


def decode(pipe, latents: torch.Tensor) -> tuple[torch.Tensor, str]:
    """VAE-decode latents to images in [-1, 1]; an fp16 decode that gives NaN/inf is redone in fp32.

    Returns (images, note): the note says when the fallback happened, for the status bar. The VAE stays
    in fp32 afterwards, so the next image does not pay for two decodes.
    """
    vae = pipe.vae
    scaled = latents / vae.config.scaling_factor
    with torch.no_grad():
        images = vae.decode(scaled.to(vae.dtype)).sample
        if vae.dtype == torch.float32 or torch.isfinite(images).all():
            return images, ""
        log.warning("fp16 VAE decode gave NaN/inf; decoding again in float32")
        vae.to(torch.float32)
        images = vae.decode(scaled.to(torch.float32)).sample
    return images, "VAE switched to float32: its float16 decode overflowed (a black image)"
