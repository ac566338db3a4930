"""Hostile model files: JSON nested thousands deep in a .safetensors header or a config anywhere in the
models folders, and LoRAs whose header breaks the safetensors rules. Each is one clear line; everything
else keeps working (the list, generate, chat, the window)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from main import main

DEEP = b"[" * 100_000 + b"]" * 100_000


def _nested_safetensors(path: Path) -> Path:
    header = b'{"a":' + DEEP + b"}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    return path


@pytest.fixture
def hostile_models(app_paths):
    """Nested headers as a checkpoint, a LoRA, a VAE, and inside a diffusers folder; a nested config too."""
    models = app_paths.models_dir
    for where in ("nested.safetensors", "loras/nested-lora.safetensors", "vae/nested-vae.safetensors",
                  "checkpoints/nested-ckpt.safetensors", "broken-sd/unet/diffusion_pytorch_model.safetensors"):
        _nested_safetensors(models / where)
    (models / "broken-sd" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    (models / "broken-sd" / "unet" / "config.json").write_bytes(DEEP)
    (models / "deep-chat").mkdir()
    (models / "deep-chat" / "config.json").write_bytes(DEEP)
    return models


def test_models_list_names_each_and_carries_on(hostile_models, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert out.count("nested too deeply") >= 4 and "Traceback" not in out
    assert main(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


def test_generate_and_chat_still_work_beside_them(hostile_models, tiny_sd15, tiny_chat, tmp_path, capsys):
    assert main(["generate", "--model", str(tiny_sd15), "--prompt", "x", "--width", "64", "--height", "64",
                 "--steps", "1", "--out", str(tmp_path / "ok.png")]) == 0
    assert main(["chat", "--model", str(tiny_chat), "--max-new-tokens", "2", "hi"]) == 0
    capsys.readouterr()


def test_a_model_folder_with_a_nested_header_fails_to_load_with_one_line(hostile_models, tiny_sd15, tmp_path,
                                                                         capsys):
    broken = tmp_path / "sd-broken"
    shutil.copytree(tiny_sd15, broken)
    _nested_safetensors(broken / "unet" / "diffusion_pytorch_model.safetensors")
    code = main(["generate", "--model", str(broken), "--prompt", "x", "--width", "64", "--height", "64", "--steps",
                 "1", "--out", str(tmp_path / "no.png")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and err.strip().splitlines()[-1].startswith("atelier generate:")


def _lora(path: Path, header: dict, data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


DOWN, UP = "lora_unet_mid_block_attentions_0_proj_in.lora_down.weight", "lora_unet_mid_block_attentions_0_proj_in.lora_up.weight"


def _pair(down: dict, up: dict) -> dict:
    return {DOWN: {"dtype": "F32", **down}, UP: {"dtype": "F32", **up}}


GOOD = _pair({"shape": [1, 2], "data_offsets": [0, 8]}, {"shape": [2, 1], "data_offsets": [8, 16]})
MALFORMED = {  # LoRA-shaped headers, each refused by the safetensors library itself (checked below), so by import
    "gap before a tensor": (_pair({"shape": [1, 2], "data_offsets": [0, 8]}, {"shape": [2, 1], "data_offsets": [12, 20]}), 20),
    "overlapping tensors": (_pair({"shape": [1, 2], "data_offsets": [0, 8]}, {"shape": [2, 1], "data_offsets": [4, 12]}), 12),
    "boolean in a shape": (_pair({"shape": [True, 2], "data_offsets": [0, 8]}, {"shape": [2, True], "data_offsets": [8, 16]}), 16),
    "boolean offsets": (_pair({"shape": [1, 1], "data_offsets": [False, 4]}, {"shape": [1, 1], "data_offsets": [4, 8]}), 8),
    "bytes past the last tensor": (GOOD, 24),
    "metadata that is not text": ({"__metadata__": {"ss_network_dim": 4}, **GOOD}, 16),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_loras_are_refused_at_import_as_safetensors_would(app_paths, tmp_path, capsys, case):
    from safetensors import safe_open

    header, size = MALFORMED[case]
    path = _lora(tmp_path / "bad.safetensors", header, b"\0" * size)
    with pytest.raises(Exception):  # the library's own verdict, so the rule here is not invented
        with safe_open(str(path), "np") as handle:
            list(handle.keys())
    code = main(["models", "import", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "bad.safetensors" in err, err
    assert not list((app_paths.models_dir).rglob("bad*"))  # nothing half-imported
