"""Steering on a real ComfyUI server through the app's ComfyUI lane: control layers, regions, refusals.

The server is the session's real ComfyUI (tests/comfyui_peer.py) with a random-weight SD 1.5 ControlNet in
its models/controlnet; jobs are 64 px, one step, guidance 1, seed fixed, so images can be compared.
"""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

from comfyui_peer import CHECKPOINT_NAME, CONTROLNET_NAME, add_controlnet
from desktop.core.messages import Done, Failed, GenerateJob, GrayImage, ImageResult, RgbaImage
from desktop.core.metadata import a1111, read_metadata
from desktop.core.models import identify_folder
from desktop.core.params import GenerationParams
from desktop.core.preprocessors import canny
from desktop.core.server_address import ServerAddress
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec
from desktop.engine.control_images import DepthEstimators, control_picture
from desktop.worker.comfyui_client import ComfyUIClient

TINY = dict(prompt="a lighthouse", width=64, height=64, steps=1, guidance=1.0, scheduler="Euler", seed=5)


@pytest.fixture
def client(qtbot, tmp_path, comfyui_server):
    add_controlnet(comfyui_server.base)
    made = ComfyUIClient(ServerAddress.checked(comfyui_server.url), lambda: tmp_path / "outputs")
    made.start()
    yield made
    made.stop()


def _layer() -> np.ndarray:
    """A control layer: a dark square and a bar on white (64 x 64 RGBA)."""
    rgba = np.full((64, 64, 4), 255, np.uint8)
    rgba[12:40, 10:38, :3] = 20
    rgba[48:56, 4:60, :3] = 90
    return rgba


def _run(qtbot, client, params, **steering):
    handle = client.submit(GenerateJob(params, CHECKPOINT_NAME, **steering))
    qtbot.waitUntil(lambda: handle.done, timeout=180_000)
    return handle


def _image(qtbot, client, params, **steering):
    handle = _run(qtbot, client, params, **steering)
    assert isinstance(handle.terminal, Done), handle.terminal
    result = next(m for m in handle.received if isinstance(m, ImageResult))
    return np.frombuffer(result.image.data, np.uint8).reshape(64, 64, 3).astype(np.int16), result


def _history_count(url):
    return len(json.load(urllib.request.urlopen(url + "/history", timeout=10)))


def _uploaded(base, index):
    latest = max((base / "temp").glob(f"atelier-*-control{index}.png"), key=lambda p: p.stat().st_mtime_ns)
    return np.asarray(Image.open(latest).convert("RGB"))


def test_control_layers_and_regions_steer_the_servers_image_and_are_recorded(qtbot, client, comfyui_server,
                                                                            tiny_depth):
    layer = RgbaImage(64, 64, _layer().tobytes())
    plain, _ = _image(qtbot, client, GenerationParams(**TINY))

    depth_model = identify_folder(tiny_depth, "tiny-depth", "models folder")  # the user's depth model, here
    controlled = GenerationParams(**TINY, controls=(
        ControlSpec("canny", "atelier-random-control-sd15", 1.0, 0.0, 1.0, layer="Sketch"),
        ControlSpec("depth", CONTROLNET_NAME, 0.5, 0.0, 0.8, layer="Photo")))
    steered, result = _image(qtbot, client, controlled, control_images=(layer, layer), addons=(depth_model,))
    assert np.abs(steered - plain).mean() > 1.0  # the ControlNets changed the picture
    # the pictures the server read are the local engine's, made on this computer (depth with the local model)
    assert np.array_equal(_uploaded(comfyui_server.base, 0), canny(_layer()).rgb)
    local_depth = control_picture(controlled.controls[1], _layer(), None, [depth_model], DepthEstimators())
    assert np.array_equal(_uploaded(comfyui_server.base, 1), local_depth.rgb)
    info = read_metadata(result.path)
    assert [c["model"] for c in info.atelier_params["controls"]] == [CONTROLNET_NAME] * 2  # the server's file
    assert [c["layer"] for c in info.atelier_params["controls"]] == ["Sketch", "Photo"]
    text = Image.open(result.path).text["parameters"]
    assert f"ControlNet 0: \"Module: canny, Model: {CONTROLNET_NAME}, Weight: 1" in text
    assert f"ControlNet 1: \"Module: depth_midas, Model: {CONTROLNET_NAME}, Weight: 0.5" in text
    assert a1111.parse(text).extra["Server"] == comfyui_server.url

    # weight 0 and a switched-off layer add nothing: exactly the image without control, still recorded
    idle = GenerationParams(**TINY, controls=(ControlSpec("canny", "atelier-random-control-sd15", 0.0),
                                              ControlSpec("canny", "atelier-random-control-sd15", enabled=False)))
    unsteered, result = _image(qtbot, client, idle, control_images=(layer, layer))
    assert np.array_equal(unsteered, plain)
    assert [c["weight"] for c in read_metadata(result.path).atelier_params["controls"]] == [0.0, 1.0]

    inside = np.zeros((64, 64), np.uint8)
    inside[:, :32] = 255  # the left half reads the region's prompt, the rest the main prompt
    regional = GenerationParams(**TINY, regions=(RegionSpec("a red dragon breathing fire", layer="Dragon"),))
    region_image, result = _image(qtbot, client, regional, region_masks=(GrayImage(64, 64, inside.tobytes()),))
    change = np.abs(region_image - plain).mean(axis=2)
    # measured: 7.7 inside, 2.6 outside (the UNet's receptive field spreads some change past the mask at 64 px)
    assert change.mean() > 1.0 and change[:, :32].mean() > 2 * change[:, 32:].mean()
    assert read_metadata(result.path).atelier_params["regions"][0]["prompt"] == "a red dragon breathing fire"


def test_what_the_server_cannot_do_is_refused_before_anything_is_queued(qtbot, client, comfyui_server):
    before = _history_count(comfyui_server.url)
    layer = RgbaImage(64, 64, _layer().tobytes())
    cases = [
        (dict(references=(ReferenceSpec("ip-adapter_sd15"),)), dict(reference_images=(layer,)),
         f"reference images (IP-Adapter) cannot be sent to the ComfyUI server at {comfyui_server.url}: .* "
         "ComfyUI_IPAdapter_plus"),
        (dict(controls=(ControlSpec("depth", "atelier-random-control-sd15"),)), dict(control_images=(layer,)),
         "Depth from a picture needs a depth estimator model .* none is installed"),  # the local engine's words
        (dict(controls=(ControlSpec("canny", "control_v11p_sd15_canny"),)), dict(control_images=(layer,)),
         f"has no ControlNet 'control_v11p_sd15_canny'; it has: {CONTROLNET_NAME}"),
    ]
    for specs, pixels, message in cases:
        handle = _run(qtbot, client, GenerationParams(**TINY, **specs), **pixels)
        assert isinstance(handle.terminal, Failed), handle.terminal
        assert all(part in handle.terminal.message for part in message.split(" .* ")), handle.terminal.message
    assert _history_count(comfyui_server.url) == before
