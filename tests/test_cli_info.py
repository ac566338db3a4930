"""`python main.py info FILE [--json]` as a person runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams
from tests.core.metadata_samples import A1111_TEXT, comfy_default_graph, comfy_png, png

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"tool", "prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler", "width", "height", "model", "extra"}


def _info(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "info", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_json_for_a_comfyui_image(tmp_path):
    done = _info(comfy_png(tmp_path / "c.png", comfy_default_graph()), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == KEYS
    assert data["tool"] == "comfyui" and data["prompt"] == "beautiful scenery, glass bottle"
    assert data["negative_prompt"] == "text, watermark" and data["seed"] == 156680208700286
    assert (data["width"], data["height"], data["sampler"]) == (512, 768, "dpmpp_2m")


def test_text_and_json_for_an_atelier_image(tmp_path):
    params = GenerationParams(prompt="a blue teapot", seed=5, width=64, height=64, steps=3)
    path = save_generation(Image.new("RGB", (64, 64)), params, tmp_path, model_name="tiny-sd15")
    text = _info(path)
    assert text.returncode == 0
    assert "made with Atelier" in text.stdout and "a blue teapot" in text.stdout and "seed: 5" in text.stdout
    data = json.loads(_info(path, "--json").stdout)
    assert data["model"] == "tiny-sd15" and data["cfg_scale"] == 7.0 and data["extra"]["atelier"]["seed"] == 5


def test_no_metadata_gives_nulls_and_a_plain_sentence(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (64, 64)).save(path)
    done = _info(path)
    assert done.returncode == 1 and "no generation data found" in done.stdout
    data = json.loads(_info(path, "--json").stdout)
    assert set(data) == KEYS and all(data[k] is None for k in KEYS - {"extra"})


def test_a_missing_file_is_one_clear_line(tmp_path):
    done = _info(tmp_path / "nope.png")
    assert done.returncode == 2 and done.stderr.strip() == f"atelier info: no such file: {tmp_path / 'nope.png'} (check the path)"


def test_a1111_text_output(tmp_path):
    done = _info(png(tmp_path / "a.png", {"parameters": A1111_TEXT}))
    assert done.returncode == 0 and "made with AUTOMATIC1111" in done.stdout
    assert "sampler: DPM++ 2M" in done.stdout
