"""Run in a fresh process by test_memory.py: measured memory of loading a model and generating with it.

Prints one JSON line. RSS is read after gc and malloc_trim (freed memory handed back); peaks come from
VmHWM, reset before each phase through /proc/self/clear_refs.
"""

from __future__ import annotations

import ctypes
import gc
import json
import re
import sys


def rss() -> int:
    import psutil

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_info().rss


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak() -> int:
    with open("/proc/self/status") as handle:
        return int(re.search(r"VmHWM:\s+(\d+)", handle.read()).group(1)) * 1024


def pipeline(folder: str, size: int) -> dict:
    import torch
    from diffusers import StableDiffusionPipeline  # imported before the baseline: imports are not the model's

    # one thread: with two, when each frees its buffers varies with the machine's load, and so did the peak
    torch.set_num_threads(1)
    base = rss()
    pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    pipe("a", num_inference_steps=1, height=64, width=64, output_type="np")
    steady = rss() - base
    # a second copy, once the process is warm: what the model itself costs, without the one-time runtime
    # (lazily imported code, kernels, thread pools), which varied by ~25 MB between two identical venvs
    before_copy = rss()
    copy = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
    copy.set_progress_bar_config(disable=True)
    copy("a", num_inference_steps=1, height=64, width=64, output_type="np")
    result = {"steady": steady, "model": rss() - before_copy}
    del copy
    if size:
        before = rss()
        reset_peak()
        latents = pipe("a", num_inference_steps=1, height=size, width=size, output_type="latent").images
        result["unet_peak"] = peak() - before
        with torch.no_grad():
            # once unmeasured: the first decode at a new size also builds oneDNN's kernels for it, a
            # runtime cost that varied with machine load and is not the activations being estimated
            pipe.vae.decode(latents / pipe.vae.config.scaling_factor)
            before = rss()
            reset_peak()
            pipe.vae.decode(latents / pipe.vae.config.scaling_factor)
        result["vae_peak"] = peak() - before
    return result


def unet(folder: str) -> dict:
    import torch
    from diffusers import UNet2DConditionModel

    base = rss()
    model = UNet2DConditionModel.from_pretrained(folder, local_files_only=True)
    # diffusers may leave weights memory-mapped until first use: one small forward pass touches them all
    with torch.no_grad():
        model(torch.zeros(1, 4, 8, 8), 1, encoder_hidden_states=torch.zeros(1, 77, model.config.cross_attention_dim))
    return {"steady": rss() - base, "parameters": sum(p.numel() for p in model.parameters())}


if __name__ == "__main__":
    kind, folder, size = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
    print(json.dumps(pipeline(folder, size) if kind == "pipeline" else unet(folder)))
