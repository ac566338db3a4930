"""`models import FILE` then `generate --model NAME` offline: a single-file checkpoint and a LoRA, as a user runs them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from main import main
from tiny_checkpoints import refuse_network, use_tiny_skeletons, write_ldm_checkpoint, write_lora


@pytest.fixture(scope="module")
def files(tiny_sd15, tmp_path_factory):
    folder = tmp_path_factory.mktemp("downloads")
    return write_ldm_checkpoint(tiny_sd15, folder / "dreamy.safetensors"), write_lora(tiny_sd15, folder / "ink.safetensors")


def generate(out, *extra) -> int:
    return main(["generate", "--model", "dreamy", "--prompt", "a fox", "--width", "64", "--height", "64",
                 "--steps", "2", "--seed", "5", "--out", str(out), *extra])


def test_an_imported_checkpoint_and_lora_generate_by_name_offline(app_paths, files, tiny_sd15, monkeypatch, tmp_path,
                                                                   capsys):
    checkpoint, lora = files
    use_tiny_skeletons(monkeypatch, tiny_sd15, tmp_path)
    refuse_network(monkeypatch)
    assert main(["models", "import", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "Found: checkpoint file, family SD 1.x" in out
    assert str(app_paths.models_dir / "checkpoints" / "dreamy.safetensors") in out
    assert main(["models", "import", str(lora)]) == 0
    capsys.readouterr()

    assert generate(tmp_path / "plain.png") == 0
    err = capsys.readouterr().err
    assert "Loaded on CPU" in err and "no offload" in err and "free RAM" in err and "step 2/2" in err
    plain = Image.open(tmp_path / "plain.png")
    assert "Model: dreamy" in plain.text["parameters"]

    assert generate(tmp_path / "panel.png", "--lora", "ink:0.8") == 0
    assert main(["generate", "--model", "dreamy", "--prompt", "a fox <lora:ink:0.8>", "--width", "64", "--height",
                 "64", "--steps", "2", "--seed", "5", "--out", str(tmp_path / "tag.png")]) == 0
    panel, tag = Image.open(tmp_path / "panel.png"), Image.open(tmp_path / "tag.png")
    assert np.array_equal(np.asarray(panel), np.asarray(tag))
    assert not np.array_equal(np.asarray(panel), np.asarray(plain))
    assert panel.text["parameters"].startswith("a fox <lora:ink:0.8>\n")
    assert tag.text["parameters"] == panel.text["parameters"]


def test_unknown_lora_or_vae_fails_before_loading_with_one_line(app_paths, files, tiny_sd15, capsys, tmp_path):
    assert main(["models", "import", str(files[1])]) == 0
    capsys.readouterr()
    cases = [(["--lora", "film:0.5"], "no LoRA named 'film'; known LoRAs: ink"),
             (["--lora", "ink:lots"], "write NAME or NAME:WEIGHT"),
             (["--vae", "sharp"], "no VAE or TAESD named 'sharp'")]
    for extra, needle in cases:
        code = main(["generate", "--model", str(tiny_sd15), "--prompt", "x", "--out", str(tmp_path / "a.png"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and needle in err and "Loading" not in err, (extra, err)
    assert not (tmp_path / "a.png").exists()
