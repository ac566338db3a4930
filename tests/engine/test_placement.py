"""The engine side of the memory plan: a plan for a real folder, and the fp16 VAE NaN fallback."""

from __future__ import annotations

import torch

from desktop.core.models import SD1
from desktop.engine.placement import decode, make_plan, place


def test_plan_for_the_tiny_model_on_this_cpu_fits_and_says_why(tiny_sd15):
    plan = make_plan(tiny_sd15, SD1, 512, 512, "cpu")
    assert (plan.device, plan.dtype, plan.offload, plan.fits) == ("cpu", "float32", "none", True)
    assert plan.reason.startswith("CPU, float32") and "free RAM" in plan.reason


def test_an_fp16_decode_that_overflows_is_redone_in_fp32(tiny_sd15):
    from diffusers import AutoencoderKL

    class Pipe:
        vae = AutoencoderKL.from_pretrained(tiny_sd15 / "vae", torch_dtype=torch.float16)

    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0)) * 3e4  # overflows fp16
    images, note = decode(Pipe, latents)
    assert torch.isfinite(images).all() and images.dtype == torch.float32
    assert "float32" in note and Pipe.vae.dtype == torch.float32
    again, note = decode(Pipe, latents)  # stays in fp32: one decode from now on
    assert note == "" and torch.equal(again, images)


def test_place_on_cpu_leaves_the_pipeline_where_it_is(tiny_sd15):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True)
    assert place(pipe, make_plan(tiny_sd15, SD1, 64, 64, "cpu")) is pipe
    assert pipe.unet.device.type == "cpu"
