"""C2PA: with the setting on, the saved PNG carries a manifest signed by a key made on this computer."""

from __future__ import annotations

import pytest
from PIL import Image

from desktop.core.metadata import read_metadata
from desktop.core.metadata.xmp import TRAINED_ALGORITHMIC_MEDIA
from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams

c2pa = pytest.importorskip("c2pa")


def test_signed_png_keeps_every_other_block_and_validates(tmp_path):
    from desktop.core.metadata import provenance

    keys = tmp_path / "c2pa"
    params = GenerationParams(prompt="a signed fox", seed=11, width=64, height=64)
    path = save_generation(Image.new("RGB", (64, 64), "orange"), params, tmp_path / "out", model_name="m",
                           c2pa_key_dir=keys)
    info = read_metadata(path)
    assert info.to_params() == params and info.extra["c2pa"]  # A1111/Atelier/XMP survive the signing
    assert oct((keys / provenance.KEY_FILE).stat().st_mode & 0o777) == "0o600"
    store = provenance.read_manifest(path)
    assert store["validation_state"] == "Valid"
    codes = {status["code"] for status in store.get("validation_status", [])}
    assert codes <= {"signingCredential.untrusted"}  # a local key: valid, but nobody outside vouches for it
    active = store["manifests"][store["active_manifest"]]
    action = active["assertions"][0]["data"]["actions"][0]
    assert action["action"] == "c2pa.created" and action["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    # the key is made once and reused
    before = (keys / provenance.CHAIN_FILE).read_bytes()
    save_generation(Image.new("RGB", (64, 64)), params, tmp_path / "out", model_name="m", c2pa_key_dir=keys)
    assert (keys / provenance.CHAIN_FILE).read_bytes() == before


def test_unsigned_by_default(tmp_path):
    path = save_generation(Image.new("RGB", (64, 64)), GenerationParams(), tmp_path, model_name="m")
    assert "c2pa" not in read_metadata(path).extra
