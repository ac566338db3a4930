"""Regional prompts in the cross-attention, measured: exactly at the attention, and in the pixels.

Random weights make every self-attention an average over the whole picture and every GroupNorm a
statistic of it, so a tiny random model spreads any change further than a trained one; the pixel test
therefore uses a region of 1/16 of the picture, and the attention test checks the mechanism exactly.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from desktop.core.models import LORA, ModelEntry, identify_folder
from desktop.core.params import GenerationParams
from desktop.core.steering import ControlSpec, RegionSpec
from desktop.engine.regions import RegionLayout
from desktop.engine.steering import steering_inputs

PARAMS = GenerationParams(prompt="a quiet meadow", negative_prompt="blurry", width=64, height=64, steps=1, seed=5,
                          scheduler="Euler")
PROMPTS = ("a red fox, fire, autumn leaves", "a blue whale, deep ocean, ice")


def box_mask(size: int, box: int) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    mask.paste(255, (0, 0, box, box))
    return mask


@pytest.fixture
def sd15(sd15_engine):
    return sd15_engine


def first_cross_attention(module):
    return next(m for name, m in module.named_modules() if name.endswith("attn2"))


def attention_outputs(engine, params, inputs, modules) -> list[list]:
    """The first cross-attention's output (positive half) in each module, for each of the two region prompts."""
    outputs = []
    for prompt in PROMPTS:
        got = [[] for _ in modules]
        hooks = [first_cross_attention(module).register_forward_hook(lambda m, i, o, box=box: box.append(o[-1]))
                 for module, box in zip(modules, got)]
        try:
            engine.generate(params.replace(regions=(RegionSpec(prompt, "fox"),)), steering=inputs,
                            addons=inputs.models)
        finally:
            for hook in hooks:
                hook.remove()
        outputs.append([box[0] for box in got])
    return outputs


@pytest.mark.parametrize("case", ["sd15", "sd15 + control + LoRA", "sdxl"])
def test_the_cross_attention_reads_a_regions_prompt_only_inside_its_mask(case, sd15, sdxl_engine, tiny_controlnet,
                                                                         tiny_sd15, tmp_path):
    engine, params, models, controls = sd15, PARAMS, [], []
    if case == "sdxl":
        engine = sdxl_engine
    modules = [engine._pipes["txt2img"].unet]
    if "control" in case:
        from tiny_checkpoints import write_lora

        controlnet = identify_folder(tiny_controlnet, "tiny-canny", "x")
        models = [controlnet, ModelEntry("ink", str(write_lora(tiny_sd15, tmp_path / "ink.safetensors")), LORA,
                                         "SD 1.x")]
        controls = [Image.new("RGBA", (64, 64), (255, 255, 255, 255))]
        params = params.replace(controls=(ControlSpec("canny", "tiny-canny", 1.0),), loras=(("ink", 0.8),))
        modules += engine.steering.controlnets_for([controlnet], engine._pipes["txt2img"], "SD 1.x", torch.float32)
    inputs = steering_inputs(controls=controls, regions=[box_mask(64, 32)], models=models)
    first, second = attention_outputs(engine, params, inputs, modules)
    for one, other in zip(first, second):  # the UNet, and the ControlNet when there is one
        side = int(round(one.shape[0] ** 0.5))
        change = (one - other).abs().mean(-1).reshape(side, side)
        inside = torch.zeros(side, side, dtype=torch.bool)
        inside[: side // 2, : side // 2] = True
        assert change[~inside].max() == 0  # outside the region: the very same numbers
        assert change[inside].mean() > 1e-3


def test_a_regions_prompt_changes_its_pixels_far_more_than_the_rest(sd15):
    size, box = 128, 32
    params = PARAMS.replace(width=size, height=size, steps=2)
    images = [np.asarray(sd15.generate(params.replace(regions=(RegionSpec(prompt),)),
                                       steering=steering_inputs(regions=[box_mask(size, box)]))[0], float)
              for prompt in PROMPTS]
    change = np.abs(images[0] - images[1]).mean(axis=2)
    inside = np.zeros((size, size), bool)
    inside[:box, :box] = True
    away = np.ones((size, size), bool)
    away[: box + 16, : box + 16] = False  # convolutions carry a change a few pixels across the edge
    assert change[inside].mean() > 2.5 * change[away].mean(), (change[inside].mean(), change[away].mean())


def test_the_negative_half_and_each_level_read_the_right_tokens():
    masks = torch.zeros(1, 4, 4)
    masks[0, :, :2] = 1
    layout = RegionLayout(masks, main_tokens=3, negative_tokens=3, spans=[(3, 5)], total_tokens=5, guided=True)
    allowed = layout.bias(16, 2, torch.float32, "cpu") == 0
    assert allowed[0, 0, :, :3].all() and not allowed[0, 0, :, 3:].any()  # negative: its tokens only
    inside = masks[0].reshape(-1).bool()
    assert allowed[1, 0][inside][:, 3:].all() and not allowed[1, 0][inside][:, :3].any()
    assert allowed[1, 0][~inside][:, :3].all() and not allowed[1, 0][~inside][:, 3:].any()
    coarse = layout.bias(4, 1, torch.float32, "cpu") == 0  # a lower UNet level (2 x 2), unguided
    assert coarse.shape == (1, 1, 4, 5) and coarse[0, 0, 0, 3:].all() and coarse[0, 0, 1, :3].all()
