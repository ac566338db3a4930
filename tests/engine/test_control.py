"""Control layers (ControlNet) through the engine, against tiny real ControlNets loaded by the app's loader."""

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from desktop.core.checkpoint_files import file_entry
from desktop.core.messages import JobCancelled
from desktop.core.models import identify_folder
from desktop.core.params import GenerationParams
from desktop.core.steering import ControlSpec
from desktop.engine.control import SteeringModelError
from desktop.engine.steering import steering_inputs

PARAMS = GenerationParams(prompt="a red fox", negative_prompt="blurry", width=64, height=64, steps=2, seed=11,
                          scheduler="Euler")


def picture(seed: int = 0) -> Image.Image:
    """A structured test picture: a bright disc and a bar on a gradient."""
    ys, xs = np.mgrid[0:64, 0:64]
    rgb = np.stack([xs * 4, ys * 4, (xs + ys) * 2], axis=2).astype(np.uint8)
    rgb[(xs - 24 - seed) ** 2 + (ys - 30) ** 2 < 120] = 255
    rgb[40:46, 8:56] = 0
    return Image.fromarray(rgb)


def pixels(image):
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.fixture
def engine(sd15_engine):
    return sd15_engine


@pytest.fixture(scope="module")
def controlnet_entry(tiny_controlnet):
    return identify_folder(tiny_controlnet, "tiny-canny", "models folder")


def control(entry, image=None, **spec):
    spec = ControlSpec(**{"type": "canny", "model": entry.name, "preprocess": False, **spec})
    return PARAMS.replace(controls=(spec,)), steering_inputs(controls=[image or picture()], models=[entry])


def test_the_engine_gives_a_plain_diffusers_controlnet_call_s_pixels(engine, tiny_sd15, tiny_controlnet,
                                                                      controlnet_entry):
    from diffusers import ControlNetModel, EulerDiscreteScheduler, StableDiffusionControlNetPipeline

    params, inputs = control(controlnet_entry, weight=0.8, start=0.0, end=0.7)
    ours = pixels(engine.generate(params.replace(steps=3), steering=inputs)[0])
    plain = StableDiffusionControlNetPipeline.from_pretrained(
        tiny_sd15, controlnet=ControlNetModel.from_pretrained(tiny_controlnet, local_files_only=True),
        local_files_only=True, safety_checker=None)
    plain.scheduler = EulerDiscreteScheduler.from_config(plain.scheduler.config)
    plain.set_progress_bar_config(disable=True)
    if engine._pipes["txt2img"].unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last):
        for module in (plain.unet, plain.vae, plain.controlnet):  # the engine's CPU layout, same arithmetic
            module.to(memory_format=torch.channels_last)
    theirs = pixels(plain(prompt="a red fox", negative_prompt="blurry", image=picture(), width=64, height=64,
                          num_inference_steps=3, controlnet_conditioning_scale=0.8, control_guidance_start=0.0,
                          control_guidance_end=0.7, generator=torch.Generator().manual_seed(11)).images[0])
    # float rounding only: the engine's path and plain diffusers differ by a level or two of 255 in some pixels even
    # without a control (measured: up to 4 levels, mean 0.5, at 2 Euler steps); a real difference is tens of levels
    assert np.abs(ours - theirs).max() <= 2 and np.abs(ours - theirs).mean() < 0.3


def test_weight_zero_or_switched_off_is_exactly_the_image_without_control(engine, controlnet_entry):
    from desktop.engine.steering import SteeringPlan

    without = pixels(engine.generate(PARAMS)[0])
    params, inputs = control(controlnet_entry, weight=0.0)
    assert np.array_equal(pixels(engine.generate(params, steering=inputs)[0]), without)
    for spec in ({"enabled": False}, {"start": 0.5, "end": 0.5}):  # left out the same way: the plain pipeline runs
        params, inputs = control(controlnet_entry, **spec)
        plan = SteeringPlan.make(engine.steering, engine._pipes["txt2img"], engine.loaded.family, params, "txt2img",
                                 inputs)
        assert plan.pipe is None and plan.control_specs == []
    params, inputs = control(controlnet_entry, weight=1.0)
    assert np.abs(pixels(engine.generate(params, steering=inputs)[0]) - without).max() > 10


def test_two_controls_run_as_a_multicontrolnet_with_their_own_weights_and_ranges(engine, controlnet_entry):
    specs = (ControlSpec("canny", controlnet_entry.name, 1.0, 0.0, 1.0, preprocess=True),
             ControlSpec("scribble", controlnet_entry.name, 0.5, 0.2, 0.8))
    inputs = steering_inputs(controls=[picture(), picture(8).convert("RGBA")], models=[controlnet_entry])
    four = PARAMS.replace(steps=4)  # the second acts on steps 2 and 3 of 4 (0.25-0.75 lies in its 0.2-0.8)
    one = pixels(engine.generate(four.replace(controls=specs[:1]), steering=steering_inputs(
        controls=[picture()], models=[controlnet_entry]))[0])
    both = pixels(engine.generate(four.replace(controls=specs), steering=inputs)[0])
    assert type(engine.steering.control_pipes[next(iter(engine.steering.control_pipes))].controlnet).__name__ \
        == "MultiControlNetModel"
    assert np.abs(both - one).max() > 3


@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint"])
def test_control_works_in_every_mode_and_streams_previews(engine, controlnet_entry, mode):
    params, inputs = control(controlnet_entry)
    params = params.replace(mode=mode, strength=0.5, steps=2)  # one denoising step
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    previews = []
    image = engine.generate(params, steering=inputs, init_image=picture(3), mask=mask,
                            on_preview=lambda step, preview: previews.append(step))[0]
    plain = engine.generate(params.replace(controls=()), init_image=picture(3), mask=mask)[0]
    assert image.size == (64, 64) and previews
    assert np.abs(pixels(image) - pixels(plain)).max() > 3
    kind = "Img2Img" if mode == "img2img" else "Inpaint"
    assert any(type(p).__name__ == f"StableDiffusionControlNet{kind}Pipeline"
               for p in engine.steering.control_pipes.values())


def test_inpaint_control_reads_the_holes_as_minus_one(engine, controlnet_entry):
    from desktop.engine.steering import SteeringPlan

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    params = PARAMS.replace(mode="inpaint", strength=1.0, controls=(ControlSpec("inpaint", controlnet_entry.name),))
    plan = SteeringPlan.make(engine.steering, engine._pipes["txt2img"], engine.loaded.family, params, "inpaint",
                             steering_inputs(controls=[picture().convert("RGBA")], models=[controlnet_entry]), mask)
    tensor = plan.control_images[0]
    assert tensor.shape == (1, 3, 64, 64) and (tensor[..., :32] == -1).all() and (tensor[..., 32:] >= 0).all()


def test_cancel_with_a_control_returns_within_a_step(engine, controlnet_entry):
    params, inputs = control(controlnet_entry)
    cancel, seen = threading.Event(), []

    def on_progress(step, total):
        seen.append(step)
        if step == 1:
            cancel.set()

    with pytest.raises(JobCancelled):
        engine.generate(params.replace(steps=10), steering=inputs, cancel=cancel, on_progress=on_progress)
    assert seen == [1]


def test_sdxl_controlnet_steers_an_sdxl_model_and_is_refused_on_sd15(engine, sdxl_engine, tiny_controlnet_xl):
    entry = identify_folder(tiny_controlnet_xl, "tiny-xl-canny", "models folder")
    assert entry.family == "SDXL"
    params, inputs = control(entry, weight=1.0)
    with pytest.raises(SteeringModelError, match="made for SDXL models; the loaded model is SD 1.x"):
        engine.generate(params, steering=inputs)
    xl = sdxl_engine
    steered = pixels(xl.generate(params.replace(steps=2), steering=inputs)[0])
    assert not np.array_equal(steered, pixels(xl.generate(PARAMS.replace(steps=2))[0]))
    assert type(xl.steering.control_pipes[next(iter(xl.steering.control_pipes))]).__name__ == \
        "StableDiffusionXLControlNetPipeline"


def test_a_missing_controlnet_is_named_with_the_ones_installed(engine, controlnet_entry):
    params, inputs = control(controlnet_entry)
    with pytest.raises(SteeringModelError, match="no ControlNet named 'depth-xl'; installed: tiny-canny"):
        engine.generate(params.replace(controls=(ControlSpec("canny", "depth-xl"),)), steering=inputs)


@pytest.mark.parametrize("layout", ["diffusers", "ldm"])
def test_single_file_controlnets_load_offline_with_the_shipped_skeleton(engine, tiny_controlnet, tmp_path,
                                                                        monkeypatch, layout):
    from diffusers import ControlNetModel
    from safetensors.torch import save_file

    from desktop.engine import single_file
    from desktop.engine.control import load_controlnet
    from desktop.engine.ldm_layout import controlnet_to_ldm

    folder = ControlNetModel.from_pretrained(tiny_controlnet, local_files_only=True)
    state = folder.state_dict() if layout == "diffusers" else controlnet_to_ldm(folder.state_dict(), folder.config)
    path = tmp_path / "tiny-canny.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    skeletons = tmp_path / "model_configs"  # the tiny model's config stands in for the shipped SD 1.5 skeleton
    (skeletons / "controlnet_sd15").mkdir(parents=True)
    (skeletons / "controlnet_sd15" / "config.json").write_text((Path(tiny_controlnet) / "config.json").read_text())
    monkeypatch.setattr(single_file, "RESOURCES", skeletons)
    entry = file_entry(path, "models folder")
    assert entry.kind == "ControlNet" and entry.usable
    loaded = load_controlnet(entry, engine._pipes["txt2img"], engine.loaded.family, torch.float32)
    expected = folder.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    assert all(torch.equal(tensor, expected[key]) for key, tensor in loaded.state_dict().items())


def test_the_shipped_controlnet_skeletons_describe_sd15_and_sdxl_controlnets():
    import json

    from desktop.core.models import SD1, SDXL, controlnet_family
    from desktop.engine import single_file
    from desktop.engine.control import SKELETONS

    for family, folder in SKELETONS.items():
        config = json.loads((single_file.RESOURCES / folder / "config.json").read_text())
        assert config["_class_name"] == "ControlNetModel" and controlnet_family(config) == family
    sd15 = json.loads((single_file.RESOURCES / SKELETONS[SD1] / "config.json").read_text())
    unet = json.loads((single_file.RESOURCES / "sd15" / "unet" / "config.json").read_text())
    assert sd15["block_out_channels"] == unet["block_out_channels"] and sd15["cross_attention_dim"] == 768
    assert json.loads((single_file.RESOURCES / SKELETONS[SDXL] / "config.json").read_text())[
        "transformer_layers_per_block"] == [1, 2, 10]


@pytest.mark.slow
def test_a_real_size_sd15_controlnet_file_in_the_original_layout_loads_with_the_skeleton(tmp_path, tiny_sd15):
    """1.4 GB of random weights in A1111's key layout, loaded offline through the shipped skeleton."""
    import json

    from diffusers import ControlNetModel
    from safetensors.torch import save_file

    from desktop.engine import single_file
    from desktop.engine.control import SKELETONS
    from desktop.engine.ldm_layout import controlnet_to_ldm

    config = json.loads((single_file.RESOURCES / SKELETONS["SD 1.x"] / "config.json").read_text())
    model = ControlNetModel.from_config(config)
    path = tmp_path / "control_sd15_random.safetensors"
    save_file({k: v.contiguous() for k, v in controlnet_to_ldm(model.state_dict(), model.config).items()}, str(path))
    entry = file_entry(path, "models folder")
    assert entry.kind == "ControlNet" and entry.family == "SD 1.x"
    loaded = ControlNetModel.from_single_file(str(path), config=str(single_file.RESOURCES / SKELETONS["SD 1.x"]),
                                              local_files_only=True)
    probe = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight"
    assert torch.equal(loaded.state_dict()[probe], model.state_dict()[probe])


def test_the_hires_fix_first_pass_is_steered(engine, controlnet_entry):
    from desktop.engine.hires import generate_hires

    params, inputs = control(controlnet_entry)
    hires = params.replace(hires_scale=1.5, hires_upscaler="Lanczos", hires_strength=0.5)
    steered = generate_hires(engine, hires, steering=inputs)[0]
    plain = generate_hires(engine, hires.replace(controls=()))[0]
    assert steered.size == (96, 96) and np.abs(pixels(steered) - pixels(plain)).max() > 3
