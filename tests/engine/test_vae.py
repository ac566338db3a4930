"""A custom VAE from a single LDM-layout file, and TAESD, swapped into a tiny pipeline."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.models import SD1, VAE
from desktop.engine.ldm_layout import vae_to_ldm
from desktop.engine.vae import load_vae, swap_vae


@pytest.fixture(scope="module")
def pipe(tiny_sd15):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_a_vae_file_in_ldm_layout_loads_offline_and_decodes_the_same(pipe, tiny_sd15, tmp_path):
    state = {k.removeprefix("first_stage_model."): v.contiguous()
             for k, v in vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config).items()}
    path = tmp_path / "my-vae.safetensors"
    save_file(state, str(path))
    assert inspect_file(path).kind == VAE
    vae = load_vae(path, SD1, config=tiny_sd15)
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(vae.decode(latents).sample, pipe.vae.decode(latents).sample, atol=1e-5)


def test_taesd_swaps_in_and_back(pipe, tiny_taesd):
    taesd = load_vae(tiny_taesd, SD1)
    previous = swap_vae(pipe, taesd)
    try:
        image = pipe("a cat", num_inference_steps=1, height=64, width=64, output_type="np").images[0]
        assert image.shape == (64, 64, 3)
        assert type(pipe.vae).__name__ == "AutoencoderTiny"
    finally:
        swap_vae(pipe, previous)
    assert type(pipe.vae).__name__ == "AutoencoderKL"


def test_not_a_vae_is_refused(tmp_path, tiny_sd15):
    with pytest.raises(CheckpointError, match="not a VAE folder"):
        load_vae(tmp_path, SD1)
    lora = tmp_path / "l.safetensors"
    save_file({"lora_unet_x_attn2_to_k.lora_down.weight": torch.zeros(4, 768)}, str(lora))
    with pytest.raises(CheckpointError, match="is a LoRA, not a VAE"):
        load_vae(lora, SD1)
