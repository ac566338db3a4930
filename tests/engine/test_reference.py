"""Reference images through a tiny IP-Adapter and tiny CLIP image encoder, found and loaded like a user's files."""

import numpy as np
import pytest
from PIL import Image

from desktop.core.models import discover_models
from desktop.core.params import GenerationParams
from desktop.core.steering import ReferenceSpec
from desktop.engine.control import SteeringModelError
from desktop.engine.steering import steering_inputs

PARAMS = GenerationParams(prompt="a cat", negative_prompt="blurry", width=64, height=64, steps=1, seed=3,
                          scheduler="Euler")


def pixels(image):
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.fixture
def engine(sd15_engine):
    return sd15_engine


@pytest.fixture(scope="module")
def models(tiny_ip_adapter, tmp_path_factory):
    """The user's models folder with the tiny adapters in models/ipadapter (image encoder inside), discovered."""
    import shutil

    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_ip_adapter, root / "ipadapter")
    return discover_models([root])


def reference(**spec):
    return PARAMS.replace(references=(ReferenceSpec(**{"model": "ip-adapter_tiny", **spec}),))


def checker(seed):
    ys, xs = np.mgrid[0:48, 0:48]
    return Image.fromarray((((xs // 8 + ys // 8 + seed) % 2) * 255).astype(np.uint8)).convert("RGB")


def test_discovery_finds_the_adapters_and_their_image_encoder(models):
    kinds = {entry.name: entry.kind for entry in models}
    assert kinds == {"ip-adapter_tiny": "IP-Adapter", "ip-adapter-full-face_tiny": "IP-Adapter",
                     "image_encoder": "image encoder"}


def test_a_reference_steers_by_weight_and_unloads_afterwards(engine, models):
    plain = pixels(engine.generate(PARAMS)[0])
    inputs = steering_inputs(references=[checker(0)], models=models)
    full = pixels(engine.generate(reference(weight=1.0), steering=inputs)[0])
    other = pixels(engine.generate(reference(weight=1.0), steering=steering_inputs(references=[checker(1)],
                                                                                     models=models))[0])
    style = pixels(engine.generate(reference(weight=1.0, mode="style"), steering=inputs)[0])
    assert np.abs(full - plain).max() > 3 and np.abs(full - other).max() > 0  # the picture itself matters
    assert np.abs(style - full).max() > 0 and np.abs(style - plain).max() > 0
    assert np.array_equal(pixels(engine.generate(PARAMS)[0]), plain)  # nothing left behind in the model
    assert engine._pipes["txt2img"].image_encoder is None


def test_the_face_variant_needs_a_face_adapter(engine, models):
    inputs = steering_inputs(references=[checker(0)], models=models)
    with pytest.raises(SteeringModelError, match="face variant needs a face IP-Adapter"):
        engine.generate(reference(mode="face"), steering=inputs)
    face = engine.generate(reference(model="ip-adapter-full-face_tiny", mode="face"), steering=inputs)[0]
    assert face.size == (64, 64)


def test_a_missing_encoder_or_adapter_says_what_to_install(engine, models):
    inputs = steering_inputs(references=[checker(0)], models=[e for e in models if e.kind != "image encoder"])
    with pytest.raises(SteeringModelError, match="no image encoder of that width is installed"):
        engine.generate(reference(), steering=inputs)
    with pytest.raises(SteeringModelError, match="no IP-Adapter named 'plus'"):
        engine.generate(reference(model="plus"), steering=steering_inputs(references=[checker(0)], models=models))


@pytest.mark.parametrize("mode", ["img2img", "inpaint"])  # outpaint runs the inpaint pipeline (test_control: all)
def test_references_and_regions_steer_the_image_modes(engine, models, mode):
    from desktop.core.steering import RegionSpec

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    params = reference(weight=0.8).replace(mode=mode, strength=0.9, steps=2,
                                           regions=(RegionSpec("a blue whale", "left"),))
    source = checker(1).resize((64, 64))
    steered = engine.generate(params, steering=steering_inputs(references=[checker(0)], regions=[mask],
                                                               models=models), init_image=source, mask=mask)[0]
    plain = engine.generate(PARAMS.replace(mode=mode, strength=0.9, steps=2), init_image=source, mask=mask)[0]
    assert np.abs(pixels(steered) - pixels(plain)).max() > 3


def test_an_sdxl_reference(sdxl_engine, tiny_sdxl, tmp_path):
    from desktop.core.models import discover_models
    from desktop.engine import tiny_steering

    tiny_steering.build_ip_adapter(tmp_path / "ipadapter" / "ip-adapter_xl_tiny.safetensors", tiny_sdxl)
    tiny_steering.build_image_encoder(tmp_path / "ipadapter" / "image_encoder")
    found = discover_models([tmp_path])
    xl = sdxl_engine
    params = PARAMS.replace(references=(ReferenceSpec("ip-adapter_xl_tiny", 1.0, "style"),))
    steered = xl.generate(params, steering=steering_inputs(references=[checker(0)], models=found))[0]
    assert not np.array_equal(pixels(steered), pixels(xl.generate(PARAMS)[0]))
