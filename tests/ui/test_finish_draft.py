"""Finish with Full VAE in the real window: a Fast mode draft (TAESD), finished over itself on the canvas.

Generate (Ctrl+Enter) with Fast mode on; Image > Finish with Full VAE decodes the draft's latents with the
model's VAE: a new undoable layer over the draft, a new image in the gallery. With the latents gone, the
gallery's Finish offers a re-run with the same seed, and that re-run is the very same final.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.core.draft import FINISHED_KEY, latents_path


def _action(window, text: str):
    return next(a for a in window.menus["&Image"].actions() if a.text() == text)


def test_generate_a_fast_draft_then_finish_it_on_the_canvas_and_in_the_gallery(qtbot, start_atelier, tiny_sd15,
                                                                                tiny_taesd, tmp_path):
    atelier = start_atelier({"tiny-sd15": tiny_sd15, "taesd/taesd": tiny_taesd}, steps=2, seed=21, fast_mode=True)
    window, controller = atelier.window, atelier.controller
    qtbot.keyClicks(window.prompt_panel.prompt, "a red kite over hills")
    # the model's preload first (a press while it loads is not queued)
    qtbot.waitUntil(lambda: "tiny-sd15" in window.model_label.text() and controller.idle, timeout=30000)
    with qtbot.waitSignal(controller.image_ready, timeout=30000) as drafted:
        qtbot.keyClick(window.prompt_panel.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    draft = drafted.args[0]
    qtbot.waitUntil(lambda: controller.idle, timeout=20000)
    assert draft.params.vae == "taesd" and latents_path(draft.path).is_file()
    document = atelier.workspace.documents.document
    assert len(document.layers) == 1
    gallery = atelier.gallery.dock
    qtbot.waitUntil(lambda: gallery.current_path == draft.path or gallery.select_path(draft.path), timeout=5000)
    assert gallery.buttons["finish"].isEnabled()
    gallery.raise_()  # tabbed with the chat dock: show it, for the screenshot
    window.grab().save(str(tmp_path / "draft-in-gallery.png"))

    with qtbot.waitSignal(controller.image_ready, timeout=60000) as finished:
        _action(window, "Finish with &Full VAE").trigger()
    final = finished.args[0]
    qtbot.waitUntil(lambda: controller.idle, timeout=20000)
    assert dict(final.params.extra)[FINISHED_KEY] == draft.path.rsplit("/", 1)[-1] and final.params.vae == ""
    layers = document.layers
    assert [layer.name for layer in layers][-1] == "a red kite over hills (full VAE)" and len(layers) == 2
    top = layers[-1].pixels[..., :3].astype(int)
    final_rgb = np.asarray(final.image.to_pil(), dtype=int)
    assert np.abs(top - final_rgb).max() <= 1 and (layers[-1].x, layers[-1].y) == (layers[0].x, layers[0].y)
    assert np.abs(top - layers[0].pixels[..., :3].astype(int)).mean() > 5  # the full VAE's picture, not the draft
    qtbot.waitUntil(lambda: gallery.select_path(final.path), timeout=5000)
    assert not gallery.buttons["finish"].isEnabled()  # a final is no draft
    window.grab().save(str(tmp_path / "finish-with-full-vae.png"))
    document.history.undo()
    assert len(document.layers) == 1  # one undo takes the final off the canvas; the draft stays

    latents_path(draft.path).unlink()  # the latents are gone: finishing offers the same job again
    assert gallery.select_path(draft.path)
    assert not gallery.buttons["finish"].isEnabled()
    _action(window, "Finish with &Full VAE").trigger()  # on the gallery's selection: it says why, and offers
    box = atelier.finish.rerun_box
    assert box is not None and "has no saved latents" in box.text() and "seed (21)" in box.text()
    with qtbot.waitSignal(controller.image_ready, timeout=60000) as rerun:
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    again = rerun.args[0]
    qtbot.waitUntil(lambda: controller.idle, timeout=20000)
    assert again.params.seed == 21 and again.params.vae == ""
    assert np.abs(np.asarray(Image.open(again.path), dtype=int) - final_rgb).max() <= 1
