"""LoRAs on a tiny real pipeline: applied for one generation, removed cleanly, wrong ones refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from desktop.core.models import LORA, ModelEntry
from desktop.engine.lora import LoraError, LoraSpec, loras_applied, prepare_loras


@pytest.fixture(scope="module")
def pipe(tiny_sd15):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _image(pipe) -> np.ndarray:
    return pipe("a cat", num_inference_steps=2, height=64, width=64, generator=torch.Generator().manual_seed(1),
                output_type="np").images[0]


@pytest.fixture(scope="module")
def peft_state(pipe) -> dict:
    """A random-weight LoRA for the tiny UNet's attention layers, made with peft (rank 4)."""
    from peft import LoraConfig, get_peft_model_state_dict

    torch.manual_seed(3)
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                        init_lora_weights=False)  # random B as well, so the LoRA changes the output
    pipe.unet.add_adapter(config, adapter_name="maker")
    state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(pipe.unet, adapter_name="maker").items()}
    pipe.unet.delete_adapters("maker")
    return state


@pytest.fixture(scope="module")
def peft_lora(peft_state, tmp_path_factory) -> Path:
    from diffusers import StableDiffusionPipeline

    folder = tmp_path_factory.mktemp("lora")
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=peft_state, safe_serialization=True)
    return folder / "pytorch_lora_weights.safetensors"


@pytest.fixture(scope="module")
def kohya_lora(peft_state, tmp_path_factory) -> Path:
    """The same LoRA in kohya's layout (lora_unet_<module path with _>.lora_down/lora_up + alpha)."""
    state = {}
    for key, value in peft_state.items():
        module, part = key.rsplit(".lora_", 1)
        stem = "lora_unet_" + module.replace(".", "_")
        state[f"{stem}.{'lora_down' if part.startswith('A') else 'lora_up'}.weight"] = value.contiguous()
        state[f"{stem}.alpha"] = torch.tensor(4.0)
    path = tmp_path_factory.mktemp("kohya") / "ink.safetensors"
    save_file(state, str(path))
    return path


def test_lora_changes_the_image_then_is_removed_bit_exactly(pipe, peft_lora, kohya_lora):
    base = _image(pipe)
    with loras_applied(pipe, [LoraSpec("ink", str(peft_lora), 0.8)]) as names:
        with_peft = _image(pipe)
        assert names and pipe.get_list_adapters()
    assert np.abs(with_peft - base).max() > 0.01
    assert np.array_equal(_image(pipe), base)
    with loras_applied(pipe, [LoraSpec("ink", str(kohya_lora), 0.8)]):
        with_kohya = _image(pipe)
    assert np.abs(with_kohya - with_peft).max() < 1e-5  # the two layouts carry the same LoRA
    with loras_applied(pipe, [LoraSpec("ink", str(kohya_lora), 0.3)]):
        weaker = _image(pipe)
    assert 0 < np.abs(weaker - base).max() < np.abs(with_kohya - base).max()
    assert np.array_equal(_image(pipe), base)
    assert not any(pipe.get_list_adapters().values())


def test_removed_even_when_the_generation_fails(pipe, peft_lora):
    base = _image(pipe)
    with pytest.raises(RuntimeError, match="boom"):
        with loras_applied(pipe, [LoraSpec("ink", str(peft_lora), 1.0)]):
            raise RuntimeError("boom")
    assert np.array_equal(_image(pipe), base)


def test_lora_of_another_family_is_refused_with_the_reason(pipe, tmp_path):
    path = tmp_path / "xl.safetensors"
    save_file({"lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight": torch.zeros(4, 2048),
               "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight": torch.zeros(640, 4)},
              str(path))
    with pytest.raises(LoraError, match="made for SDXL.*32 wide"):
        with loras_applied(pipe, [LoraSpec("xl", str(path), 1.0)]):
            pass


def test_lora_whose_keys_match_nothing_is_refused_and_leaves_the_model_clean(pipe, tmp_path):
    base = _image(pipe)
    path = tmp_path / "none.safetensors"
    save_file({"lora_unet_nothing_here_to_k.lora_down.weight": torch.ones(4, 32),
               "lora_unet_nothing_here_to_k.lora_up.weight": torch.ones(32, 4)}, str(path))
    with pytest.raises(LoraError, match="matches no layer"):
        with loras_applied(pipe, [LoraSpec("none", str(path), 1.0)]):
            pass
    assert np.array_equal(_image(pipe), base)


def test_prepare_loras_from_prompt_and_panel(peft_lora, tmp_path):
    entries = [ModelEntry("ink", str(peft_lora), LORA), ModelEntry("broken", str(tmp_path / "b"), LORA, problem="truncated")]
    prompt, specs = prepare_loras("a cat <lora:INK:0.6>", (("ink", 1.0),), entries)
    assert prompt == "a cat" and specs == [LoraSpec("ink", str(peft_lora), 0.6)]
    with pytest.raises(LoraError, match="no LoRA named 'film'; known LoRAs: broken, ink"):
        prepare_loras("<lora:film:1>", (), entries)
    with pytest.raises(LoraError, match="truncated"):
        prepare_loras("<lora:broken:1>", (), entries)
