"""Tiny single-file checkpoints and LoRAs, and the config skeletons that let Atelier load them offline.

The shipped skeletons in resources/model_configs describe real-size models, which tiny weights do not
fit. `use_tiny_skeletons` points the loader at the tiny model's configs (weightless), the way the shipped
ones are used for a real checkpoint: same code path, no network.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import torch


def write_ldm_checkpoint(folder: Path, path: Path) -> Path:
    """The tiny diffusers pipeline in `folder` written as one file in the original (LDM/A1111) layout."""
    from diffusers import StableDiffusionPipeline

    from desktop.engine.ldm_layout import save_ldm_checkpoint

    pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
    return save_ldm_checkpoint(pipe, path)


def use_tiny_skeletons(monkeypatch, tiny_sd15: Path, where: Path) -> Path:
    """Make the tiny model's configs (no weights) the SD 1.x skeleton for this test."""
    from desktop.engine import single_file

    skeletons = where / "model_configs"
    if not (skeletons / "sd15").exists():
        shutil.copytree(tiny_sd15, skeletons / "sd15", ignore=shutil.ignore_patterns("*.safetensors"))
    monkeypatch.setattr(single_file, "RESOURCES", skeletons)
    return skeletons


def refuse_network(monkeypatch) -> None:
    """Any attempt to open a connection fails the test loudly."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def write_lora(tiny_sd15: Path, path: Path, seed: int = 3) -> Path:
    """A random-weight LoRA (kohya layout, rank 4) for the tiny SD 1.x UNet's attention layers."""
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig, get_peft_model_state_dict
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(tiny_sd15 / "unet", local_files_only=True)
    torch.manual_seed(seed)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                init_lora_weights=False), adapter_name="maker")
    state = {}
    for key, value in get_peft_model_state_dict(unet, adapter_name="maker").items():
        module, part = key.rsplit(".lora_", 1)
        stem = "lora_unet_" + module.replace(".", "_")
        state[f"{stem}.{'lora_down' if part.startswith('A') else 'lora_up'}.weight"] = value.detach().contiguous()
        state[f"{stem}.alpha"] = torch.tensor(4.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


def write_sdxl_lora(path: Path) -> Path:
    """A LoRA whose cross-attention keys are 2048 wide: made for SDXL, refused on SD 1.x."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight": torch.zeros(4, 2048),
               "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight": torch.zeros(640, 4)},
              str(path))
    return path
