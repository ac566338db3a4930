"""File > Export on a canvas whose generation was scaled to fit: the metadata describes the file written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from canvas_support import gradient, write_png
from file_dialogs import answer_next_file_dialog
from PIL import Image
from PySide6.QtCore import Qt

from desktop.core.metadata import read_metadata


@pytest.fixture
def atelier(start_atelier, tiny_sd15):
    return start_atelier({"tiny-sd15": tiny_sd15}, size=(1000, 720), steps=2, seed=42)


def test_export_records_the_pictures_size_and_claims_no_time(qtbot, atelier, tmp_path):
    panel, docs = atelier.window.prompt_panel, atelier.workspace.documents
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient(66, 64)))  # 66 px: not a multiple of 8
    panel.mode.setCurrentIndex(panel.mode.findData("img2img"))
    panel.prompt.setPlainText("a harbour at dusk")
    qtbot.waitUntil(panel.generate_button.isEnabled, timeout=3000)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(atelier.controller.results) == 1 and atelier.controller.idle, timeout=60000)
    assert (atelier.controller.results[0].params.width, atelier.controller.results[0].params.height) == (64, 64)
    assert [layer.name for layer in docs.document.layers] == ["photo", "a harbour at dusk"]

    for name in ("harbour.png", "harbour.jpg", "harbour.webp"):
        seen = []
        answer_next_file_dialog(tmp_path / name, seen)
        atelier.workspace.actions["export"].trigger()
        assert seen and seen[0][0] == "Export flattened image"
        path = tmp_path / name
        assert Image.open(path).size == (66, 64)
        info = read_metadata(path)
        assert (info.width, info.height) == (66, 64), name  # the file's size, not the generation's 64x64
        assert info.extra["generated_size"] == "64x64" and "seconds" not in info.extra  # no "0.0 s"
        assert info.to_params().width == 64  # Reuse settings still gets the size that was generated
        if name.endswith(".png"):
            text = Image.open(path).text
            assert "Size: 66x64" in text["parameters"]
            record = json.loads(text["atelier"])
            assert "seconds" not in record and record["image_size"] == "66x64"
            assert np.array_equal(np.asarray(Image.open(path).convert("RGBA")), docs.document.composite())
