"""CPU speed choices for image pipelines: memory format, thread count, whether bf16 can pay off.

Measured with real-size random-weight models by benchmarks/unet.py; the defaults here are what won
on the CPUs we measured (see benchmarks/RESULTS.md). Settings.cpu_channels_last lets a user turn
the memory-format choice off.
"""

from __future__ import annotations

import ctypes
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
    """channels_last (NHWC) lets oneDNN run convolutions without reordering every activation.

    Only 4-D tensors (convolution weights) change layout, one at a time. Weights fresh from a
    safetensors file live in a private file mapping that stays mapped while any tensor of the file
    is alive, so every page read for the copy would stay resident beside the copy (7.5 GB instead of
    4.6 GB at SD 1.5 size): each old range is handed back to the kernel as soon as it is copied.
    """
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    mapped = _file_mappings()
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.dim() != 4 or tensor.is_contiguous(memory_format=memory_format):
                continue
            old = tensor.data
            start, size = old.data_ptr(), old.numel() * old.element_size()
            tensor.data = old.contiguous(memory_format=memory_format)
            del old
            if tensor.device.type == "cpu":
                _release_file_pages(start, size, mapped)
    return module


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MADV_DONTNEED = 4


def _file_mappings() -> list[tuple[int, int]]:
    """Address ranges of private file mappings (Linux /proc/self/maps); empty elsewhere."""
    ranges = []
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return ranges
    for line in lines:
        fields = line.split(maxsplit=5)
        # address perms offset dev inode [path]: a file has an inode; "p" is a private (copy-on-write) map
        if len(fields) == 6 and fields[4] != "0" and fields[1].endswith("p") and fields[5].startswith("/"):
            low, high = (int(part, 16) for part in fields[0].split("-"))
            ranges.append((low, high))
    return ranges


def _release_file_pages(start: int, size: int, mapped: list[tuple[int, int]]) -> None:
    """Drop the resident pages of a copied tensor's old file-mapped range.

    Safe even if something still used them: a private file page that was never written reads
    back from the file on the next access. Anonymous memory is never touched (it would read as zeros).
    """
    low = -(-start // _PAGE) * _PAGE  # whole pages inside the range only: neighbours keep theirs
    high = (start + size) // _PAGE * _PAGE
    if high <= low or not any(begin <= low and high <= end for begin, end in mapped):
        return
    try:
        libc = ctypes.CDLL(None)  # the C library already loaded into this process
        libc.madvise(ctypes.c_void_p(low), ctypes.c_size_t(high - low), _MADV_DONTNEED)
    except (OSError, AttributeError):  # no madvise here: the pages simply stay resident
        pass


def tune_pipeline(pipe, device: str, channels_last: bool = True):
    """Apply the CPU choices to a loaded pipeline's convolutional models; other devices are left alone.

    The layout change is deferred to each model's first convolution (convert_on_first_use): converting
    at load read and copied every conv weight (1.5 s at SD 1.5 size), so a load took 4.7-7x a plain
    from_pretrained, which maps the file and reads nothing yet (benchmarks/RESULTS.md, load_ratio).
    """
    if device != "cpu":
        return pipe
    for name in _CONV_MODULES:
        module = getattr(pipe, name, None)
        if isinstance(module, torch.nn.Module):
            if channels_last:
                convert_on_first_use(module)
            else:
                apply_memory_format(module, False)
    return pipe


def convert_on_first_use(module: torch.nn.Module) -> list:
    """Make `module` channels_last the first time any of its convolutions runs (once), not now.

    The first generation pays the copy (the reads it needs anyway); later ones run at the channels_last
    speed. Returns the hook handles (all removed once the conversion ran).
    """
    handles: list = []

    def convert(_conv, _inputs):
        for handle in handles:
            handle.remove()
        handles.clear()
        # outside inference mode: tensors made inside it could not be changed in place later (LoRA fusing)
        with torch.inference_mode(False):
            apply_memory_format(module, True)

    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            handles.append(layer.register_forward_pre_hook(convert))
    return handles


def thread_count() -> int:
    """Every core the process may use: the UNet scales with cores (1 -> 2 threads: ~1.9x here)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
