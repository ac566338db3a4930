"""`main.py generate --control/--reference/--region` as a user runs them: a real subprocess, models in the home."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def run_main(*args, home):
    env = {"ATELIER_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
           "HF_HUB_CACHE": str(home / "hf"), "HOME": str(home)}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "generate", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def home(tmp_path, tiny_controlnet, tiny_controlnet_xl, tiny_ip_adapter):
    """An Atelier home whose models folder has ControlNets (SD 1.x and SDXL) and an IP-Adapter with its encoder."""
    models = tmp_path / "home" / "models"
    shutil.copytree(tiny_controlnet, models / "controlnet" / "tiny-canny")
    shutil.copytree(tiny_controlnet_xl, models / "controlnet" / "tiny-xl-canny")
    shutil.copytree(tiny_ip_adapter, models / "ipadapter")
    ys, xs = np.mgrid[0:64, 0:64]
    Image.fromarray(((xs // 8 + ys // 8) % 2 * 255).astype(np.uint8)).convert("RGB").save(tmp_path / "edges.png")
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "left.png")
    Image.new("RGB", (80, 80), "red").save(tmp_path / "big.png")
    return tmp_path / "home"


def test_control_reference_and_region_make_an_image_that_records_them(home, tiny_sd15, tmp_path):
    out = tmp_path / "steered.png"
    result = run_main("--model", str(tiny_sd15), "--prompt", "a (red:1.2) fox", "--width", "64", "--height", "64",
                      "--steps", "2", "--seed", "3",
                      "--control", f"canny:{tmp_path / 'edges.png'}:tiny-canny:0.8:0:0.6",
                      "--reference", f"{tmp_path / 'big.png'}:ip-adapter_tiny:0.5",
                      "--region", f"{tmp_path / 'left.png'}:a blue bird, sky", "--out", str(out), home=home)
    assert result.returncode == 0, result.stderr
    text = Image.open(out).text
    assert text["parameters"].startswith("a (red:1.2) fox\n")  # the prompt as typed
    assert 'ControlNet 0: "Module: canny, Model: tiny-canny, Weight: 0.8' in text["parameters"]
    assert "Guidance Start: 0, Guidance End: 0.6" in text["parameters"]
    assert 'ControlNet 1: "Module: ip-adapter-auto, Model: ip-adapter_tiny, Weight: 0.5' in text["parameters"]
    params = json.loads(text["atelier"])["params"]
    assert params["controls"][0] == {"type": "canny", "model": "tiny-canny", "weight": 0.8, "start": 0.0,
                                          "end": 0.6, "layer": "edges.png", "enabled": True, "preprocess": True,
                                          "source": "layer"}
    assert params["references"][0]["model"] == "ip-adapter_tiny" and params["references"][0]["weight"] == 0.5
    assert params["regions"] == [{"prompt": "a blue bird, sky", "layer": "left.png", "enabled": True}]


def test_bad_steering_gets_one_line_and_exit_2(home, tiny_sd15, tmp_path):
    edges, big, left = tmp_path / "edges.png", tmp_path / "big.png", tmp_path / "left.png"
    cases = [
        (["--control", f"sketchy:{edges}"], "unknown control type 'sketchy'; use one of scribble, lineart"),
        (["--control", f"canny:{edges}:nope"], "no ControlNet named 'nope'; installed: tiny-canny, tiny-xl-canny"),
        (["--control", f"canny:{edges}:tiny-xl-canny"], "was made for SDXL models; the model is SD 1.x"),
        (["--control", f"canny:{big}:tiny-canny"], "is 80x80 but the image to make is 64x64"),
        (["--control", f"canny:{tmp_path / 'missing.png'}:tiny-canny"], "does not exist"),
        (["--control", f"depth:{edges}:tiny-canny"], "needs a depth estimator model in models/preprocessors"),
        (["--control", f"pose:{edges}:tiny-canny"], "needs a pose estimator model in models/preprocessors"),
        (["--control", f"softedge:{edges}:tiny-canny"], "use --control-as-is"),
        (["--control", f"canny:{edges}:tiny-canny:2.5"], "control weight must be a number from 0 to 2"),
        (["--reference", f"{big}:plus"], "no IP-Adapter named 'plus'; installed: ip-adapter-full-face_tiny"),
        (["--region", f"{big}:a cat"], "is 80x80 but the image to make is 64x64"),
        (["--region", f"{left}"], "write MASK_IMAGE:PROMPT"),
        (["--comfyui", "http://127.0.0.1:9", "--reference", f"{big}:plus"],  # refused before the server is asked
         "--reference: reference images (IP-Adapter) cannot be sent to http://127.0.0.1:9: stock ComfyUI has no"),
    ]
    for extra, needle in cases:
        result = run_main("--model", str(tiny_sd15), "--prompt", "x", "--width", "64", "--height", "64",
                          "--out", str(tmp_path / "a.png"), *extra, home=home)
        assert result.returncode == 2 and needle in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
