"""Image > Upscale… as a user does it: the menu's QAction, the dialog, progress, Cancel, Undo."""

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop.core.document import Document
from desktop.core.geometry import Rect


def _picture(width=40, height=32):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 6 % 256, y * 8 % 256, (x * y) % 256], -1).astype(np.uint8)


def _open(app, qtbot, pixels):
    app.workspace.documents.set_document(Document.from_pixels(pixels, "photo"))
    action = app.upscale.action
    assert action.text() == "&Upscale…" and action in app.window.menus["&Image"].actions()
    action.trigger()
    qtbot.waitUntil(lambda: app.upscale.dialog is not None and app.upscale.dialog.isVisible())
    return app.upscale.dialog


def _choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def test_upscale_the_canvas_with_a_built_in_model_then_undo(start_atelier, qtbot, home_upscalers):
    app = start_atelier({}, show=True, size=(900, 700))
    document_pixels = _picture()
    dialog = _open(app, qtbot, document_pixels)
    assert [dialog.model.itemData(i) for i in range(3)] == ["realesrgan-x4plus", "realesrgan-x4plus-anime",
                                                             "realesr-animevideov3"]
    assert not dialog.target.model().item(2).isEnabled()  # no selection: "Selection" is greyed out
    _choose(dialog.model, "realesr-animevideov3")
    _choose(dialog.scale, 2)
    dialog.tile.setValue(32)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    handle = app.upscale.handle
    qtbot.waitUntil(lambda: handle.done, timeout=60000)
    steps = [m.step for m in handle.received if type(m).__name__ == "Progress"]
    assert steps == [0, 1, 2]  # one progress step per tile (40 px wide: two 32 px tiles)
    document = app.workspace.documents.document
    assert (document.width, document.height) == (80, 64)
    top = document.layers[-1]
    assert top.name == "Real-ESRGAN animevideov3 (fast, anime) 2x" and top.pixels.shape == (64, 80, 4)
    # a real upscale of the picture: close to a plain resize of it, not noise
    from PIL import Image

    plain = np.asarray(Image.fromarray(document_pixels).resize((80, 64), Image.Resampling.BICUBIC), np.float32)
    assert np.abs(top.pixels[..., :3].astype(np.float32) - plain).mean() < 20
    app.window.grab().save(str(app.upscale.cache_dir.parent / "upscaled-window.png"))
    document.history.undo()
    assert (document.width, document.height) == (40, 32) and len(document.layers) == 1


def test_upscale_a_selection_and_cancel_a_long_one(start_atelier, qtbot, home_upscalers):
    app = start_atelier({}, show=True)
    pixels = _picture(96, 96)
    app.workspace.documents.set_document(Document.from_pixels(pixels, "photo"))
    app.workspace.documents.document.set_selection(Rect(8, 16, 32, 24))
    app.upscale.action.trigger()
    dialog = app.upscale.dialog
    assert dialog.target.model().item(2).isEnabled()
    _choose(dialog.target, "selection")
    _choose(dialog.model, "realesr-animevideov3")
    _choose(dialog.scale, 3)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.upscale.handle.done, timeout=60000)
    document = app.workspace.documents.document
    top = document.layers[-1]
    assert (top.x, top.y, top.width, top.height) == (24, 48, 96, 72)
    assert (document.width, document.height) == (288, 288)
    # now a slow one (x4plus, small tiles), cancelled from the progress dialog's Cancel button
    app.upscale.action.trigger()
    dialog = app.upscale.dialog
    _choose(dialog.target, "canvas")
    dialog.tile.setValue(32)
    _choose(dialog.scale, 2)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    handle = app.upscale.handle
    qtbot.waitUntil(lambda: any(type(m).__name__ == "Progress" for m in handle.received), timeout=30000)
    from PySide6.QtWidgets import QPushButton

    cancel_button = app.upscale.progress.findChild(QPushButton)
    assert cancel_button.text() == "Cancel"
    qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: handle.done, timeout=20000)  # within a tile (hundreds of tiles were queued)
    assert type(handle.terminal).__name__ == "Cancelled"
    assert (document.width, document.height) == (288, 288) and len(document.layers) == 2  # nothing changed


def test_a_pickle_upscaler_asks_first_and_no_means_no(start_atelier, qtbot, home_upscalers):
    from desktop.engine.upscaler import import_spandrel

    import_spandrel()
    from spandrel.architectures.Compact import Compact

    app = start_atelier({}, show=True)
    torch.save(Compact(num_in_ch=3, num_out_ch=3, num_feat=4, num_conv=1, upscale=2).state_dict(),
               home_upscalers / "2x-Mine.pth")
    asked = []
    app.upscale.ask_trust = lambda parent, path: asked.append(path) or False
    dialog = _open(app, qtbot, _picture())
    _choose(dialog.model, "2x-Mine")
    _choose(dialog.scale, 2)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert asked and asked[0].endswith("2x-Mine.pth") and app.upscale.handle is None
    app.upscale.ask_trust = lambda parent, path: True
    app.upscale.action.trigger()
    dialog = app.upscale.dialog
    _choose(dialog.model, "2x-Mine")
    _choose(dialog.scale, 2)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.upscale.handle.done, timeout=60000)
    assert type(app.upscale.handle.terminal).__name__ == "Done"
    assert app.workspace.documents.document.layers[-1].pixels.shape == (64, 80, 4)


def test_no_picture_says_so(start_atelier, qtbot):
    app = start_atelier({}, show=False)
    errors = []
    app.window.show_error = errors.append
    app.upscale.action.trigger()
    assert errors and "no picture to upscale" in errors[0]


def test_upscale_then_refine_in_tiles_with_the_selected_model(start_atelier, qtbot, home_upscalers, tiny_sd15):
    app = start_atelier({"tiny-sd15": tiny_sd15}, show=True, steps=2, seed=1)
    qtbot.keyClicks(app.window.prompt_panel.prompt, "sharp details")
    dialog = _open(app, qtbot, _picture(48, 40))
    assert dialog.refine.isEnabled() and "tiny-sd15" in dialog.refine.text()
    _choose(dialog.model, "realesr-animevideov3")
    _choose(dialog.scale, 2)
    dialog.refine.setChecked(True)
    dialog.refine_strength.setValue(0.5)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    handle = app.upscale.handle
    assert handle.job.refine.prompt == "sharp details" and handle.job.refine.mode == "img2img"
    qtbot.waitUntil(lambda: handle.done, timeout=120000)
    assert type(handle.terminal).__name__ == "Done", handle.terminal
    progress = [(m.step, m.total) for m in handle.received if type(m).__name__ == "Progress"]
    assert progress[-1] == (2, 2)  # one bar: 1 upscale tile, then 1 refine tile (512 px) x int(2 * 0.5) step
    document = app.workspace.documents.document
    assert (document.width, document.height) == (96, 80) and document.layers[-1].pixels.shape == (80, 96, 4)
