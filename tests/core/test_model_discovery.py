import shutil

import pytest

from desktop.core.models import CHAT, DIFFUSERS, SD1, SDXL, discover_models, resolve_model


def test_finds_models_in_the_folder_and_the_hf_cache(tmp_path, tiny_sd15, tiny_sdxl, tiny_chat):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(tiny_sd15, models / "my-sd15")
    shutil.copytree(tiny_chat, models / "my-chat")
    snapshot = tmp_path / "hub" / "models--acme--tiny-xl" / "snapshots" / "abc123"
    shutil.copytree(tiny_sdxl, snapshot)
    entries = {e.name: e for e in discover_models([models], tmp_path / "hub")}
    assert entries["my-sd15"].kind == DIFFUSERS and entries["my-sd15"].family == SD1
    assert entries["my-sd15"].usable and entries["my-sd15"].size_bytes > 1_000_000
    assert entries["acme/tiny-xl"].family == SDXL and entries["acme/tiny-xl"].source == "Hugging Face cache"
    assert entries["my-chat"].kind == CHAT and entries["my-chat"].usable


def test_half_copied_and_non_model_folders_are_named_with_what_is_missing(tmp_path, tiny_sd15):
    models = tmp_path / "models"
    shutil.copytree(tiny_sd15, models / "half")
    for weights in (models / "half" / "unet").glob("*.safetensors"):
        weights.unlink()
    (models / "holiday-photos").mkdir()
    (models / "holiday-photos" / "beach.jpg").write_bytes(b"x")
    entries = {e.name: e for e in discover_models([models])}
    assert "missing unet weights" in entries["half"].problem
    assert "not a model folder" in entries["holiday-photos"].problem


def test_resolve_by_name_or_path_with_advice(tmp_path, tiny_sd15):
    entries = discover_models([tiny_sd15.parent])
    assert resolve_model(tiny_sd15.name.upper(), entries).path == str(tiny_sd15)
    assert resolve_model(str(tiny_sd15), []).family == SD1
    with pytest.raises(LookupError, match="known models"):
        resolve_model("nope", entries)


def test_upscalers_in_comfyui_and_a1111_folders_are_listed_as_upscalers_not_broken_models(tmp_path):
    from desktop.core.models import UPSCALER

    models = tmp_path / "models"
    for folder, name in (("upscale_models", "4x-UltraSharp.pth"), ("ESRGAN", "4x_NMKD.safetensors")):
        (models / folder).mkdir(parents=True)
        (models / folder / name).write_bytes(b"weights")
    (models / "ESRGAN" / "readme.txt").write_text("x")
    entries = {e.name: e for e in discover_models([models])}
    assert set(entries) == {"4x-UltraSharp", "4x_NMKD"}
    assert all(e.kind == UPSCALER and e.usable for e in entries.values())
