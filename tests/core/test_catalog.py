"""The shipped catalog parses and names what a user needs to decide: size, licence, memory."""

from __future__ import annotations

import json

import pytest

from desktop.core.catalog import CatalogError, load_catalog
from desktop.core.downloads import _REPO_ID


def test_shipped_catalog_is_complete():
    entries = load_catalog()
    ids = {e.id for e in entries}
    assert {"sd-turbo", "sdxl-turbo", "sd-1.5", "sdxl-base", "taesd", "taesdxl", "qwen2.5-0.5b-instruct"} <= ids
    for entry in entries:
        assert _REPO_ID.match(entry.repo_id) and entry.patterns and entry.licence
        assert entry.size_bytes > 0 and entry.ram_gb > 0 and entry.vram_gb > 0
    turbo = next(e for e in entries if e.id == "sd-turbo")
    assert "unet/diffusion_pytorch_model.safetensors" in turbo.patterns
    assert not any(p.endswith((".bin", ".ckpt")) or "fp16" in p for p in turbo.patterns)


def test_a_damaged_catalog_names_the_entry(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [{"id": "x", "title": "X"}]}))
    with pytest.raises(CatalogError, match="'x' is malformed"):
        load_catalog(path)
    path.write_text("{")
    with pytest.raises(CatalogError, match="cannot be read"):
        load_catalog(path)
