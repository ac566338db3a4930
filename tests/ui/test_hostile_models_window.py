"""The window starts, and lists the good model, with a .safetensors whose header nests JSON thousands
deep in the models folder (it stopped the app from starting)."""

from __future__ import annotations

import struct


def test_the_window_starts_and_lists_the_good_model(qtbot, start_atelier, app_paths, tiny_sd15):
    header = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for where in ("nested.safetensors", "loras/nested-lora.safetensors"):
        path = app_paths.models_dir / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(struct.pack("<Q", len(header)) + header)
    app = start_atelier({"tiny-sd15": tiny_sd15}, show=False)
    panel = app.window.prompt_panel
    assert any("tiny-sd15" in panel.model_box.itemText(i) for i in range(panel.model_box.count()))
