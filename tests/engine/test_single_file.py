"""Single-file checkpoints in the original LDM/A1111 layout: detected, loaded offline, same image as the source."""

from __future__ import annotations

import json
import pickle
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from desktop.core import models
from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.pickle_files import TrustList
from desktop.engine import tiny_models
from desktop.engine.ldm_layout import save_ldm_checkpoint
from desktop.engine.model_import import import_model_file
from desktop.engine.single_file import (RESOURCES, clip_tokenizer, config_folder, convert_to_diffusers,
                                        load_single_file)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test loudly."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def build_sdxl_two_widths(folder: Path) -> Path:
    """Tiny SDXL whose two text encoders differ in width (32 and 48), as the real ones do (768 and 1280).

    diffusers tells the encoders of a single file apart by width, so the shared fixture (both 32) cannot
    round-trip through the LDM layout.
    """
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * 8 + 48, cross_attention_dim=80, norm_num_groups=1)
    pipe = StableDiffusionXLPipeline(
        unet=unet.eval(), vae=tiny_models._vae(0.13025, 1024).eval(),
        text_encoder=CLIPTextModel(tiny_models._clip_text_config(32)).eval(),
        text_encoder_2=CLIPTextModelWithProjection(tiny_models._clip_text_config(48)).eval(),
        tokenizer=tiny_models.clip_tokenizer(), tokenizer_2=tiny_models.clip_tokenizer(),
        scheduler=tiny_models._scheduler())
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def tiny_sdxl_two_widths(tiny_models_dir) -> Path:
    folder = tiny_models_dir / "tiny-sdxl-two-widths"
    return folder if folder.exists() else build_sdxl_two_widths(folder)


def _load(folder: Path):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _image(pipe) -> np.ndarray:
    return pipe("a fox in the snow", num_inference_steps=2, height=64, width=64, guidance_scale=5.0,
                generator=torch.Generator().manual_seed(7), output_type="np").images[0]


def assert_same_image(a: np.ndarray, b: np.ndarray) -> None:
    # the same weights; float sums may differ in the last bit (fused q/k/v split back), pixels may not
    assert np.abs(a - b).max() < 1e-5
    assert np.array_equal((a * 255).round().astype(np.uint8), (b * 255).round().astype(np.uint8))


@pytest.fixture(scope="module")
def sd15_checkpoint(tiny_sd15, tmp_path_factory) -> Path:
    return save_ldm_checkpoint(_load(tiny_sd15), tmp_path_factory.mktemp("ckpt") / "tiny-sd15.safetensors")


@pytest.mark.parametrize("fixture,family", [("tiny_sd15", models.SD1), ("tiny_sdxl_two_widths", models.SDXL)])
def test_ldm_checkpoint_loads_offline_and_draws_the_same_image(request, tmp_path, no_network, fixture, family):
    folder = request.getfixturevalue(fixture)
    source = _load(folder)
    checkpoint = save_ldm_checkpoint(source, tmp_path / "model.safetensors")
    assert any(k.startswith("model.diffusion_model.input_blocks.") for k in json.loads(
        checkpoint.read_bytes()[8:8 + int.from_bytes(checkpoint.read_bytes()[:8], "little")]))
    info = inspect_file(checkpoint)
    assert (info.kind, info.family, info.layout) == (models.SINGLE_FILE, family, "ldm")
    loaded = load_single_file(checkpoint, config=folder)  # the source's configs, weightless: no weights read
    assert_same_image(_image(loaded), _image(source))


def test_converted_folder_loads_with_from_pretrained_and_matches(sd15_checkpoint, tiny_sd15, tmp_path, no_network):
    out = convert_to_diffusers(sd15_checkpoint, tmp_path / "models" / "imported" / "mine", config=tiny_sd15)
    assert models.check_diffusers_folder(out) == ""
    assert [p.name for p in out.parent.iterdir()] == ["mine"]  # no temporary folder left behind
    assert_same_image(_image(_load(out)), _image(_load(tiny_sd15)))


def test_wrong_family_config_is_refused_and_leaves_nothing(sd15_checkpoint, tmp_path):
    target = tmp_path / "imported" / "x"
    with pytest.raises(CheckpointError, match="does not fit the SD 1.x architecture"):
        convert_to_diffusers(sd15_checkpoint, target)  # the shipped real-size SD 1.5 config
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_import_keeps_a_lora_file_and_refuses_bad_ones(tmp_path):
    from safetensors.torch import save_file

    lora = tmp_path / "ink.safetensors"
    save_file({"lora_unet_a_attn2_to_k.lora_down.weight": torch.zeros(4, 768),
               "lora_unet_a_attn2_to_k.lora_up.weight": torch.zeros(8, 4)}, str(lora))
    result = import_model_file(lora, tmp_path / "models")
    assert (result.kind, result.family, Path(result.path).parent.name) == (models.LORA, models.SD1, "loras")
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        import_model_file(empty, tmp_path / "models")


def test_trusted_pickle_is_read_weights_only_and_converted(tmp_path):
    trust = TrustList(tmp_path / "trust.json")
    good = tmp_path / "ink.pt"
    torch.save({"lora_unet_a_attn2_to_k.lora_down.weight": torch.ones(4, 1024),
                "lora_unet_a_attn2_to_k.lora_up.weight": torch.ones(8, 4)}, good)
    with pytest.raises(CheckpointError, match="pickle"):
        import_model_file(good, tmp_path / "models", trust=trust)  # no opt-in: refused
    result = import_model_file(good, tmp_path / "models", trust=trust, trust_pickle=True)
    assert (result.kind, result.family, result.converted_from_pickle) == (models.LORA, models.SD2, True)
    assert Path(result.path).suffix == ".safetensors"
    assert not any(p.name.startswith(".") for p in (tmp_path / "models").iterdir())  # intermediate removed


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_even_a_trusted_malicious_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Exploit(marker)}, evil, pickle_module=pickle)
    trust = TrustList(tmp_path / "trust.json")
    with pytest.raises(CheckpointError, match="more than plain tensors"):
        import_model_file(evil, tmp_path / "models", trust=trust, trust_pickle=True)
    assert not marker.exists()
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.safetensors"))


def test_shipped_configs_describe_the_published_architectures():
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def millions(model) -> float:
        return round(sum(p.numel() for p in model.parameters()) / 1e6, 1)

    with init_empty_weights():
        unets = {family: millions(UNet2DConditionModel.from_config(
            UNet2DConditionModel.load_config(config_folder(family) / "unet"))) for family in (models.SD1, models.SD2, models.SDXL)}
        text = {family: millions(CLIPTextModel(CLIPTextConfig.from_pretrained(config_folder(family) / "text_encoder")))
                for family in (models.SD1, models.SD2)}
        bigg = millions(CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(config_folder(models.SDXL) / "text_encoder_2")))
    assert unets == {models.SD1: 859.5, models.SD2: 865.9, models.SDXL: 2567.5}
    assert text == {models.SD1: 123.1, models.SD2: 340.4} and bigg == 694.7
    assert sum(f.stat().st_size for f in RESOURCES.rglob("*") if f.is_file()) < 3_000_000


def test_shipped_clip_tokenizer_gives_clips_ids():
    tokenizer = clip_tokenizer()
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert tokenizer("Hello   World!").input_ids == [49406, 3306, 1002, 256, 49407]
    assert len(tokenizer) == 49408 and tokenizer.model_max_length == 77
    assert clip_tokenizer("!").pad_token_id == 0  # OpenCLIP's padding, for SD 2.x and SDXL's second encoder


def test_import_places_a_checkpoint_as_is_and_it_loads_by_name(sd15_checkpoint, tiny_sd15, tmp_path, monkeypatch,
                                                             no_network):
    import shutil

    from desktop.engine import single_file

    # shipped skeletons stand-in: the tiny model's configs and tokenizer, without its weights
    skeletons = tmp_path / "model_configs"
    shutil.copytree(tiny_sd15, skeletons / "sd15", ignore=shutil.ignore_patterns("*.safetensors"))
    monkeypatch.setattr(single_file, "RESOURCES", skeletons)
    models_dir = tmp_path / "models"
    result = import_model_file(sd15_checkpoint, models_dir, name="dreamy")
    assert (result.kind, result.family, result.path) == (models.SINGLE_FILE, models.SD1,
                                                         str(models_dir / "checkpoints" / "dreamy.safetensors"))
    entry = models.resolve_model("dreamy", models.discover_models([models_dir]))
    assert (entry.kind, entry.family, entry.usable) == (models.SINGLE_FILE, models.SD1, True)
    assert_same_image(_image(load_single_file(entry.path)), _image(_load(tiny_sd15)))


def test_import_refuses_a_checkpoint_that_does_not_fit_and_leaves_nothing(sd15_checkpoint, tmp_path):
    models_dir = tmp_path / "models"
    with pytest.raises(CheckpointError, match="does not fit the SD 1.x architecture"):
        import_model_file(sd15_checkpoint, models_dir)  # tiny weights against the real SD 1.5 skeleton
    assert not models_dir.exists() or not any(models_dir.rglob("*"))
