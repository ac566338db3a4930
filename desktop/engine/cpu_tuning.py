"""CPU speed choices for image pipelines: memory format, thread count, whether bf16 can pay off.

Measured with real-size random-weight models by benchmarks/unet.py; the defaults here are what won
on the CPUs we measured (see benchmarks/RESULTS.md). Settings.cpu_channels_last lets a user turn
the memory-format choice off.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

_CONV_MODULES = ("unet", "vae")


def cpu_has_native_bf16() -> bool:
    """True where bf16 runs on real units (AVX512_BF16 or AMX); elsewhere torch emulates it, slower than fp32."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def apply_memory_format(module: torch.nn.Module, channels_last: bool) -> torch.nn.Module:
    """channels_last (NHWC) lets oneDNN run convolutions without reordering every activation."""
    return module.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def tune_pipeline(pipe, device: str, channels_last: bool = True):
    """Apply the CPU choices to a loaded pipeline's convolutional models; other devices are left alone."""
    if device != "cpu":
        return pipe
    for name in _CONV_MODULES:
        module = getattr(pipe, name, None)
        if isinstance(module, torch.nn.Module):
            apply_memory_format(module, channels_last)
    return pipe


def thread_count() -> int:
    """Every core the process may use: the UNet scales with cores (1 -> 2 threads: ~1.9x here)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
