"""Which device and dtype to run on: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import os

import torch


def pick_device() -> tuple[str, torch.dtype]:
    """ATELIER_DEVICE (cuda/mps/cpu) overrides; half precision only where the hardware is built for it."""
    wanted = os.environ.get("ATELIER_DEVICE", "").lower()
    if wanted == "cpu":
        return "cpu", torch.float32
    if wanted in ("", "cuda") and torch.cuda.is_available():
        return "cuda", torch.float16
    mps = getattr(torch.backends, "mps", None)
    if wanted in ("", "mps") and mps is not None and mps.is_available():
        return "mps", torch.float16
    return "cpu", torch.float32


def describe(device: str, dtype: torch.dtype) -> str:
    name = {"cuda": "GPU", "mps": "Apple GPU", "cpu": "CPU"}.get(device, device)
    if device == "cuda":
        name = torch.cuda.get_device_name(0)
    elif device == "cpu":
        name = f"CPU ({torch.get_num_threads()} threads)"
    return f"{name}, {str(dtype).replace('torch.', '')}"
