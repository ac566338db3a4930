"""`main.py generate --comfyui URL` as a user runs it (a real subprocess) against the real ComfyUI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from comfyui_peer import CHECKPOINT_NAME, free_port
from comfyui_proxy import HostileProxy
from desktop.core.metadata import a1111

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "cli-Token-8d1e"


def run_main(*args, home, **env):
    base = {"ATELIER_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(home)}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "generate", *args], capture_output=True, text=True,
                          env=dict(base, **env), timeout=300)


def test_generate_on_a_comfyui_server_behind_a_token(tmp_path, comfyui_server):
    guarded = HostileProxy(comfyui_server.port, token=TOKEN)  # a reverse proxy that wants a Bearer token
    try:
        out = tmp_path / "tower.png"
        result = run_main("--comfyui", guarded.url, "--model", "atelier-random-sd15", "--prompt", "a tower",
                          "--width", "64", "--height", "64", "--steps", "1", "--guidance", "1", "--seed", "9",
                          "--scheduler", "Euler", "--token-env", "MY_TOKEN", "--out", str(out), home=tmp_path,
                          MY_TOKEN=TOKEN)
    finally:
        guarded.close()
    assert result.returncode == 0, result.stderr
    assert "step 1/1" in result.stderr and f"on the ComfyUI server at {guarded.url}" in result.stdout
    info = a1111.parse(Image.open(out).text["parameters"])
    assert info.model == CHECKPOINT_NAME and info.seed == 9 and info.extra["Server"] == guarded.url
    assert TOKEN not in result.stdout + result.stderr


def test_bad_addresses_and_servers_give_one_clear_line(tmp_path, comfyui_server):
    common = ("--model", CHECKPOINT_NAME, "--prompt", "x", "--out", str(tmp_path / "x.png"))
    cases = [
        (("--comfyui", "192.168.1.20:8188"), {}, 2, "has no http:// or https:// in front"),
        (("--comfyui", ""), {}, 2, "--comfyui needs the server's address"),
        (("--comfyui", comfyui_server.url), {"ATELIER_COMFYUI_TOKEN": "two words"}, 2, "$ATELIER_COMFYUI_TOKEN: "),
        (("--comfyui", f"http://127.0.0.1:{free_port()}"), {}, 1, "nothing is listening there"),
        (("--comfyui", comfyui_server.url, "--model", "sdxl"), {}, 2, "has no checkpoint 'sdxl'; it has: "),
    ]
    for extra, env, code, needle in cases:
        args = common + extra if "--model" not in extra else (*common[2:], *extra)
        result = run_main(*args, home=tmp_path, **env)
        assert result.returncode == code and needle in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) <= 2  # "Sending the job…" then the one error line
        assert result.stderr.strip().splitlines()[-1].startswith("atelier generate: ")


def test_control_layers_and_regions_on_a_comfyui_server(tmp_path, comfyui_server):
    from comfyui_peer import CONTROLNET_NAME, add_controlnet

    add_controlnet(comfyui_server.base)
    sketch = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    sketch.paste((0, 0, 0, 255), (10, 10, 40, 20))  # strokes on a transparent layer
    sketch.save(tmp_path / "sketch.png")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 0, 64, 64))
    mask.save(tmp_path / "right.png")
    common = ("--comfyui", comfyui_server.url, "--model", "atelier-random-sd15", "--prompt", "a (tower:1.2)",
              "--width", "64", "--height", "64", "--steps", "1", "--guidance", "1", "--seed", "9",
              "--scheduler", "Euler")
    out = tmp_path / "steered.png"
    result = run_main(*common, "--control", f"scribble:{tmp_path / 'sketch.png'}:atelier-random-control-sd15:0.9",
                      "--region", f"{tmp_path / 'right.png'}:a red dragon", "--out", str(out), home=tmp_path)
    assert result.returncode == 0, result.stderr
    text = Image.open(out).text["parameters"]
    assert f'ControlNet 0: "Module: invert (from white bg & black line), Model: {CONTROLNET_NAME}, Weight: 0.9' in text
    assert text.startswith("a (tower:1.2)")  # the prompt as typed
    atelier = json.loads(Image.open(out).text["atelier"])["params"]
    assert atelier["regions"][0]["prompt"] == "a red dragon" and atelier["controls"][0]["type"] == "scribble"

    cases = [
        (("--reference", f"{tmp_path / 'sketch.png'}:ip-adapter_sd15"), "reference images (IP-Adapter) cannot be sent"),
        (("--control", f"depth:{tmp_path / 'sketch.png'}:atelier-random-control-sd15"), "needs a depth estimator model"),
        (("--control", f"canny:{tmp_path / 'sketch.png'}:control_canny"),
         f"has no ControlNet 'control_canny'; it has: {CONTROLNET_NAME}"),
    ]
    for extra, needle in cases:
        refused = run_main(*common, *extra, "--out", str(tmp_path / "no.png"), home=tmp_path)
        assert refused.returncode == 2 and needle in refused.stderr, (extra, refused.stderr)
        assert refused.stderr.strip().splitlines()[-1].startswith("atelier generate: ")
        assert not (tmp_path / "no.png").exists()
