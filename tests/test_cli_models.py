"""`main.py models list / import`: run through the real entry point, on a fresh Atelier home."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from main import main


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_sd15, tmp_path_factory) -> Path:
    from diffusers import StableDiffusionPipeline

    from desktop.engine.ldm_layout import save_ldm_checkpoint

    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True)
    return save_ldm_checkpoint(pipe, tmp_path_factory.mktemp("cli") / "dreamy.safetensors")


def test_import_prints_family_and_place_then_list_and_generate_find_it(app_paths, tiny_checkpoint, tiny_sd15, capsys):
    assert main(["models", "import", str(tiny_checkpoint), "--config", str(tiny_sd15)]) == 0
    out = capsys.readouterr().out
    assert "family SD 1.x" in out
    assert str(app_paths.models_dir / "imported" / "dreamy") in out
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["name"], e["kind"], e["family"], e["ready_offline"]) for e in listed] == [
        ("dreamy", "checkpoint", "SD 1.x", True)]
    assert main(["models", "list"]) == 0
    assert "dreamy" in capsys.readouterr().out
    # generate --model NAME resolves the imported model the same way
    from desktop.core.models import discover_models, resolve_model

    entry = resolve_model("dreamy", discover_models([app_paths.models_dir]))
    assert entry.path == str(app_paths.models_dir / "imported" / "dreamy") and entry.usable


def test_import_refuses_a_pickle_and_a_damaged_file_with_one_clear_line(app_paths, tmp_path, capsys):
    marker = tmp_path / "marker"
    evil = tmp_path / "model.ckpt"
    evil.write_bytes(pickle.dumps({"x": 1}))
    assert main(["models", "import", str(evil)]) == 2
    assert "can run any code" in capsys.readouterr().err
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x05\x00\x00")
    assert main(["models", "import", str(broken)]) == 2
    assert "truncated" in capsys.readouterr().err
    assert main(["models", "import", str(tmp_path / "missing.safetensors")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not marker.exists()
    assert not any(app_paths.models_dir.rglob("*"))  # nothing half-written


def test_list_on_an_empty_home_says_so(app_paths, capsys):
    assert main(["models", "list"]) == 0
    assert "No models found" in capsys.readouterr().out
    assert main(["models"]) == 2


def test_download_from_a_local_hub_and_list_it(app_paths, monkeypatch, capsys):
    import fake_hub

    with fake_hub.serve() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        assert main(["models", "download", hub.repo]) == 0
    assert "verified" in capsys.readouterr().out
    assert main(["models", "download", "--catalog", "x"]) == 0
    assert "sd-turbo" in capsys.readouterr().out
    assert main(["models", "download", "no-slash"]) == 1
    assert "owner/name" in capsys.readouterr().err
