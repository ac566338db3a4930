"""Generating from the canvas with a tiny real model: inpaint in a mask painted with the mouse,
txt2img into a selection, img2img from what is visible, outpaint after expanding; results are layers."""


import numpy as np
import pytest
from PIL import Image
from canvas_support import drag, gradient, write_png
from PySide6.QtCore import Qt

from desktop.core.edits import SetSelection
from desktop.core.geometry import Rect


@pytest.fixture
def atelier(start_atelier, tiny_sd15):
    return start_atelier({"tiny-sd15": tiny_sd15}, size=(1000, 720), steps=2, seed=42)

def _mode(panel, mode: str) -> None:
    panel.mode.setCurrentIndex(panel.mode.findData(mode))  # what choosing it in the list does


def _generate(qtbot, atelier, prompt: str, results: int = 1) -> list:
    panel = atelier.window.prompt_panel
    atelier.prompt.prompt = prompt
    before = len(atelier.controller.results)
    qtbot.waitUntil(panel.generate_button.isEnabled, timeout=3000)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(atelier.controller.results) >= before + results and atelier.controller.idle, timeout=60000)
    return atelier.controller.results[before:]


def test_inpaint_in_a_mask_painted_with_the_mouse_adds_a_layer_and_undo_removes_it(qtbot, atelier, tmp_path):
    panel, canvas, docs = atelier.window.prompt_panel, atelier.window.canvas, atelier.workspace.documents
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    original = docs.document.composite()
    _mode(panel, "inpaint")
    qtbot.waitUntil(lambda: not panel.generate_button.isEnabled(), timeout=3000)
    assert "Paint a mask" in panel.notice_text() and "Paint a mask" in panel.generate_button.toolTip()
    qtbot.keyClick(canvas, Qt.Key.Key_Q)  # quick mask, as in Photoshop
    assert canvas.tools.mask_mode
    canvas.tools.set_size(14)
    drag(qtbot, canvas, [(12, 32), (30, 30), (52, 32)])
    mask = docs.document.mask.copy()
    assert mask[31, 30] == 255 and mask[5, 5] == 0
    targets, previews = [], []
    shown = canvas.set_preview
    canvas.set_preview = lambda image, target=None: (targets.append(target), previews.append(image.copy()),
                                                     shown(image, target))
    [result] = _generate(qtbot, atelier, "a small red boat")
    document = docs.document
    assert [layer.name for layer in document.layers] == ["photo", "a small red boat"]
    assert result.params.mode == "inpaint" and (result.params.width, result.params.height) == (64, 64)
    assert targets and all((t.x(), t.y(), t.width(), t.height()) == (0, 0, 64, 64) for t in targets)
    after = document.composite()
    assert np.array_equal(after[mask == 0], original[mask == 0])  # every unmasked pixel is exactly as it was
    assert not np.array_equal(after[mask == 255], original[mask == 255])
    # the live preview drew only inside the area that changes, through the same feathered mask as the layer
    alpha = document.layers[-1].pixels[..., 3]
    assert alpha[5, 5] == 0 and alpha[31, 30] > 200
    assert all(p.pixelColor(5, 5).alpha() == 0 and p.pixelColor(30, 31).alpha() == alpha[31, 30] for p in previews)
    # outputs and the gallery keep the picture the user sees, not the raw frame the pipeline made
    saved = np.asarray(Image.open(result.path).convert("RGB"))
    assert np.array_equal(saved, after[..., :3]) and not np.array_equal(saved, np.asarray(result.image.to_pil()))
    assert canvas.image.pixelColor(5, 5).getRgb() == tuple(int(v) for v in original[5, 5])
    assert panel.notice_text() == "" and document.history.undo_label == "Generate: a small red boat"
    atelier.workspace.actions["undo"].trigger()
    assert [layer.name for layer in document.layers] == ["photo"]
    assert np.array_equal(document.composite(), original)


def test_txt2img_into_the_selection_gives_one_layer_per_image_of_a_batch(qtbot, atelier):
    panel, docs = atelier.window.prompt_panel, atelier.workspace.documents
    assert docs.new_document(128, 96)
    docs.document.history.do(SetSelection(Rect(16, 8, 64, 48)))
    qtbot.waitUntil(lambda: panel.width_box.value() == 88 and not panel.width_box.isEnabled(), timeout=3000)
    atelier.prompt.batch_size = 2
    results = _generate(qtbot, atelier, "two lanterns", results=2)
    assert [(r.params.width, r.params.height) for r in results] == [(88, 64), (88, 64)]
    layers = docs.document.layers
    assert [layer.name for layer in layers] == ["Background", "two lanterns", "two lanterns"]
    assert all(layer.bounds == Rect(16, 8, 64, 48) for layer in layers[1:])
    assert "Seed: 42" in layers[1].parameters and "Seed: 43" in layers[2].parameters
    composite = docs.document.composite()
    assert (composite[:8] == 255).all() and (composite[:, 80:] == 255).all()  # outside the selection: untouched


def test_img2img_starts_from_the_visible_pixels_of_the_selection(qtbot, atelier, tmp_path):
    panel, docs, controller = atelier.window.prompt_panel, atelier.workspace.documents, atelier.controller
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient(96, 64)))
    docs.document.history.do(SetSelection(Rect(32, 0, 64, 64)))
    _mode(panel, "img2img")
    atelier.prompt.update(strength=0.5, prompt="oil painting")
    targets = []
    shown = atelier.window.canvas.set_preview
    atelier.window.canvas.set_preview = lambda image, target=None: (targets.append(target), shown(image, target))
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    job = list(controller.handles.values())[-1].job  # after the model's preload, if that still runs
    assert job.params.strength == 0.5 and (job.init_image.width, job.init_image.height) == (64, 64)
    assert job.init_image.data == np.ascontiguousarray(gradient(96, 64)[:, 32:, :3]).tobytes()
    qtbot.waitUntil(lambda: controller.idle and bool(controller.results), timeout=60000)
    layer = docs.document.layers[-1]
    assert layer.bounds == Rect(32, 0, 64, 64) and layer.name == "oil painting"
    # the live preview covers only the selection it will change, never the whole canvas
    assert targets and all((t.x(), t.y(), t.width(), t.height()) == (32, 0, 64, 64) for t in targets)


def test_outpaint_fills_the_expanded_area_and_keeps_the_picture(qtbot, atelier, tmp_path):
    panel, docs, workspace = atelier.window.prompt_panel, atelier.workspace.documents, atelier.workspace
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    original = docs.document.composite()
    _mode(panel, "outpaint")
    qtbot.waitUntil(lambda: not panel.generate_button.isEnabled(), timeout=3000)
    assert "expand the canvas" in panel.notice_text()
    workspace.options.expand_by.setValue(32)
    assert workspace.options.expand_side(2)
    [result] = _generate(qtbot, atelier, "more meadow")
    composite = docs.document.composite()
    assert composite.shape[:2] == (64, 96) and (composite[..., 3] == 255).all()  # no hole left
    assert np.array_equal(np.asarray(Image.open(result.path).convert("RGB")), composite[..., :3])  # as seen
    assert np.array_equal(composite[:, :40], original[:, :40])  # away from the seam, the old picture is exact


def test_modes_that_read_the_canvas_wait_for_one(qtbot, atelier):
    panel = atelier.window.prompt_panel
    _mode(panel, "img2img")
    qtbot.waitUntil(lambda: not panel.generate_button.isEnabled(), timeout=3000)
    assert "Open an image" in panel.generate_button.toolTip()
    errors = []
    atelier.controller.error.connect(errors.append)
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=60000)  # the model's preload
    qtbot.keyClick(atelier.window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # bypasses the button
    assert "Open an image" in errors[0] and atelier.controller.idle
    assert atelier.workspace.documents.document is None


def test_reuse_settings_of_a_taller_image_makes_a_job_and_a_layer_of_that_size(qtbot, atelier):
    panel, docs, gallery = atelier.window.prompt_panel, atelier.workspace.documents, atelier.gallery.dock
    atelier.prompt.update(width=64, height=96)
    [tall] = _generate(qtbot, atelier, "a tall lighthouse")  # no canvas yet: one of the image's size
    assert docs.new_document(64, 64)
    qtbot.waitUntil(lambda: (panel.width_box.value(), panel.height_box.value()) == (64, 64), timeout=3000)
    _mode(panel, "img2img")  # the area sets the size in this mode; Reuse brings text to image back
    qtbot.waitUntil(lambda: gallery.select_path(tall.path), timeout=10000)
    gallery.buttons["reuse"].click()
    assert (panel.width_box.value(), panel.height_box.value()) == (64, 96) and panel.width_box.isEnabled()
    [again] = _generate(qtbot, atelier, "a tall lighthouse")
    assert (again.params.width, again.params.height) == (64, 96) and again.params.seed == tall.params.seed
    document = docs.document
    assert (document.width, document.height) == (64, 96)  # the canvas grew to hold the picture asked for
    assert document.layers[-1].bounds == Rect(0, 0, 64, 96)
    assert np.array_equal(document.layers[-1].pixels[..., :3], np.asarray(again.image.to_pil()))
    atelier.workspace.actions["undo"].trigger()  # one step takes back both
    assert (document.width, document.height) == (64, 64) and len(document.layers) == 1
