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


def _thumbnail(path, mime):
    import io
    import json

    with open(path, "rb") as handle, c2pa.Reader(mime, handle) as reader:
        store = json.loads(reader.json())
        thumbnail = store["manifests"][store["active_manifest"]]["thumbnail"]
        out = io.BytesIO()
        reader.resource_to_stream(thumbnail["identifier"], out)
    return Image.open(out)


def test_a_signed_webp_carries_a_small_thumbnail_and_does_not_balloon(tmp_path):
    """The C2PA library's default thumbnail is 1024 px in the image's own format: a lossless WebP that
    made a signed WebP many times larger than the picture. Capped at 256 px (JPEG)."""
    import numpy as np

    from desktop.core.metadata import provenance
    from desktop.core.metadata.writer import export_image

    rng = np.random.default_rng(1)
    picture = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).resize((1024, 1024))
    params = GenerationParams(prompt="a signed fox", seed=11, width=1024, height=1024)
    plain = export_image(picture, params, tmp_path / "plain.webp", model_name="m")
    signed = export_image(picture, params, tmp_path / "signed.webp", model_name="m", c2pa_key_dir=tmp_path / "keys")
    assert provenance.read_manifest(signed)["validation_state"] == "Valid"
    thumbnail = _thumbnail(signed, "image/webp")
    assert max(thumbnail.size) <= provenance.THUMBNAIL_LONG_EDGE
    assert signed.stat().st_size < 1.5 * plain.stat().st_size, (plain.stat().st_size, signed.stat().st_size)
