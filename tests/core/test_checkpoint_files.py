"""Safetensors headers, kind and family detection, and pickle refusal, on real files written here."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from desktop.core import models
from desktop.core.checkpoint_files import CheckpointError, inspect_file, read_header
from desktop.core.pickle_files import TrustList, looks_like_pickle


def write_model(path: Path, shapes: dict[str, tuple[int, ...]], metadata: dict | None = None) -> Path:
    save_file({name: np.zeros(shape, dtype=np.float16) for name, shape in shapes.items()}, str(path), metadata)
    return path


def ldm(context: int, text: str, extra: dict | None = None) -> dict:
    shapes = {
        "model.diffusion_model.input_blocks.0.0.weight": (4, 4, 3, 3),
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, context),
        "first_stage_model.decoder.conv_out.weight": (3, 4, 1, 1),
    }
    shapes[text] = (4, 4)
    shapes.update(extra or {})
    return shapes


FAMILIES = [
    ("sd1", ldm(768, "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight"), models.SD1),
    ("sd2", ldm(1024, "cond_stage_model.model.token_embedding.weight"), models.SD2),
    ("sdxl", ldm(2048, "conditioner.embedders.1.model.positional_embedding",
                 {"conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight": (4, 4),
                  "model.diffusion_model.label_emb.0.0.weight": (4, 4)}), models.SDXL),
]


@pytest.mark.parametrize("name,shapes,family", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_of_ldm_checkpoints_comes_from_tensors(tmp_path, name, shapes, family):
    info = inspect_file(write_model(tmp_path / f"{name}.safetensors", shapes))
    assert (info.kind, info.family, info.layout, info.problem) == (models.SINGLE_FILE, family, "ldm", "")
    assert info.dtype == "F16"


def test_family_falls_back_to_cross_attention_width(tmp_path):
    shapes = ldm(1024, "cond_stage_model.unknown.weight")
    assert inspect_file(write_model(tmp_path / "x.safetensors", shapes)).family == models.SD2


def test_inpainting_and_unet_only_files_say_why_they_cannot_load(tmp_path):
    shapes = FAMILIES[0][1] | {"model.diffusion_model.input_blocks.0.0.weight": (4, 9, 3, 3)}
    assert "9 input channels" in inspect_file(write_model(tmp_path / "inpaint.safetensors", shapes)).problem
    bare = {"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 768)}
    assert "no VAE or text encoder" in inspect_file(write_model(tmp_path / "bare.safetensors", bare)).problem


@pytest.mark.parametrize("keys,width,family,layout", [
    (["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"], 768, models.SD1, "kohya"),
    (["lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k", "lora_te1_text_model_encoder_layers_0_mlp_fc1"],
     2048, models.SDXL, "kohya"),
    (["unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"], 1024, models.SD2, "peft"),
])
def test_lora_kind_layout_and_family(tmp_path, keys, width, family, layout):
    shapes = {}
    for key in keys:
        if layout == "kohya":
            shapes[f"{key}.lora_down.weight"] = (4, width)
            shapes[f"{key}.lora_up.weight"] = (320, 4)
        else:
            shapes[f"{key}.lora_A.weight"] = (4, width)
            shapes[f"{key}.lora_B.weight"] = (320, 4)
    info = inspect_file(write_model(tmp_path / "lora.safetensors", shapes))
    assert (info.kind, info.family, info.layout) == (models.LORA, family, layout)


def test_lora_family_from_kohya_metadata_when_shapes_do_not_tell(tmp_path):
    shapes = {"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight": (4, 8)}
    path = write_model(tmp_path / "l.safetensors", shapes, {"ss_base_model_version": "sdxl_base_v1-0"})
    assert inspect_file(path).family == models.SDXL


def test_vae_and_taesd_files(tmp_path):
    vae = {"decoder.up.0.block.0.conv1.weight": (4, 4, 3, 3), "post_quant_conv.weight": (4, 4, 1, 1),
           "encoder.down.0.block.0.conv1.weight": (4, 4, 3, 3)}
    info = inspect_file(write_model(tmp_path / "vae.safetensors", vae))
    assert (info.kind, info.family) == (models.VAE, models.ANY_SD)
    taesd = {"1.weight": (4, 4, 3, 3), "3.conv.0.weight": (4, 4, 3, 3)}
    assert inspect_file(write_model(tmp_path / "taesd_decoder.safetensors", taesd)).kind == models.TAESD


def test_unknown_tensors_are_named_as_such(tmp_path):
    info = inspect_file(write_model(tmp_path / "x.safetensors", {"classifier.weight": (2, 2)}))
    assert info.family == models.UNKNOWN and "not a Stable Diffusion" in info.problem


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _raw(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


@pytest.mark.parametrize("make,message", [
    (lambda p: _bytes(p, b""), r"empty \(0 bytes\)"),
    (lambda p: _bytes(p, b"\x10\x00"), "truncated"),
    (lambda p: _raw(p, b"{}", length=2**40), "header length"),
    (lambda p: _raw(p, b'{"a":', length=5000), "truncated"),
    (lambda p: _raw(p, b"{not json at all}"), "corrupt header"),
    (lambda p: _raw(p, b"[1, 2]"), "corrupt header"),
    (lambda p: _raw(p, json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 7]}}).encode(),
                    bytes(7)), "corrupt header"),
    (lambda p: _raw(p, json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode(),
                    bytes(9)), "truncated"),
    (lambda p: _raw(p, json.dumps({"w": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 1]}}).encode(),
                    bytes(1)), "corrupt header"),
    (lambda p: _raw(p, b'{"__metadata__": {}}'), "holds no tensors"),
])
def test_damaged_files_get_clear_messages(tmp_path, make, message):
    path = make(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match=message):
        read_header(path)


def test_a_truncated_real_file_is_caught(tmp_path):
    path = write_model(tmp_path / "m.safetensors", FAMILIES[0][1])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(CheckpointError, match="truncated.*fetch it again"):
        inspect_file(path)


class _Exploit:
    """Unpickling this object creates a marker file: the attack a .ckpt can carry."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".bin", ".safetensors"])
def test_a_malicious_pickle_is_refused_and_never_unpickled(tmp_path, suffix):
    marker = tmp_path / "pwned"
    path = tmp_path / f"model{suffix}"  # even named .safetensors, its pickle magic gives it away
    path.write_bytes(pickle.dumps({"state_dict": _Exploit(marker)}, protocol=4))
    assert looks_like_pickle(path)
    with pytest.raises(CheckpointError, match="can run any code") as caught:
        inspect_file(path)
    assert "weights_only=True" in str(caught.value) and "--trust-pickle" in str(caught.value)
    assert not marker.exists()


def test_trust_list_is_per_file_content(tmp_path):
    trust = TrustList(tmp_path / "config" / "trusted.json")
    first, second = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    trust.trust(first)
    assert trust.is_trusted(first) and not trust.is_trusted(second)
    assert TrustList(tmp_path / "config" / "trusted.json").is_trusted(first)  # kept on disk
    first.write_bytes(b"swapped")  # same name, other content: no longer trusted
    assert not trust.is_trusted(first)


def test_discovery_lists_model_files_with_kind_family_and_problems(tmp_path):
    root = tmp_path / "models"
    (root / "checkpoints").mkdir(parents=True)
    (root / "loras").mkdir()
    write_model(root / "checkpoints" / "dream.safetensors", FAMILIES[2][1])
    write_model(root / "loras" / "ink.safetensors",
                {"lora_unet_x_attn2_to_k.lora_down.weight": (4, 768), "lora_unet_x_attn2_to_k.lora_up.weight": (8, 4)})
    (root / "checkpoints" / "half.safetensors").write_bytes(b"\x00" * 3)
    (root / "old.ckpt").write_bytes(pickle.dumps({"a": 1}))
    (root / "checkpoints" / ".dream.partial").mkdir()  # a conversion in progress is not a model
    found = {e.name: e for e in models.discover_models([root])}
    assert set(found) == {"dream", "ink", "half", "old"}
    assert (found["dream"].kind, found["dream"].family, found["dream"].usable) == (models.SINGLE_FILE, models.SDXL, True)
    assert (found["ink"].kind, found["ink"].family) == (models.LORA, models.SD1)
    assert "truncated" in found["half"].problem
    assert "pickle" in found["old"].problem


def test_a_safetensors_header_that_starts_like_a_pickle_is_still_safetensors(tmp_path):
    # a 640-byte header is written as 80 02 00 ..., the same two bytes a protocol-2 pickle starts with
    name = "lora_unet_a_attn2_to_k.lora_down.weight"
    header = {name: {"dtype": "F16", "shape": [1, 768], "data_offsets": [0, 1536]}}
    text = json.dumps(header)
    text += " " * (640 - len(text))
    path = _raw(tmp_path / "l.safetensors", text.encode(), bytes(1536))
    assert path.read_bytes()[:2] == b"\x80\x02" and not looks_like_pickle(path)
    assert inspect_file(path).kind == models.LORA
