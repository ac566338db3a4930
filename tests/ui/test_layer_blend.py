"""Changing a layer's blend mode in the Layers panel: drawn at once, one undo step, kept in the .ora."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.core.blending import MODES, NORMAL
from desktop.core.document import Document, EditError, Layer
from desktop.core.edits import AddLayer, SetLayerBlend
from desktop.core.openraster import load_ora, save_ora
from tests.ui.user_actions import Person

BACKDROP, PAINT = (200, 100, 50), (128, 255, 0)
MULTIPLIED = [round(b * s / 255) for b, s in zip(BACKDROP, PAINT)]  # W3C multiply of two opaque colours


def _two_layer_project(path) -> None:
    document = Document.from_pixels(np.full((32, 32, 3), BACKDROP, np.uint8), "Paper")
    document.history.do(AddLayer(Layer.blank("Ink", 32, 32, PAINT + (255,))))
    save_ora(document, path)


def _canvas_rgb(canvas) -> list[int]:
    color = canvas.image.pixelColor(5, 5)
    return [color.red(), color.green(), color.blue()]


def _close(rgb: list[int], expected: list[int]) -> bool:
    return all(abs(a - b) <= 1 for a, b in zip(rgb, expected))


def test_choosing_multiply_in_the_combo_redraws_undoes_and_is_saved(qtbot, start_atelier, tmp_path):
    path = tmp_path / "blend.ora"
    _two_layer_project(path)
    app = start_atelier({})
    person = Person(app, qtbot, tmp_path)
    assert person.documents.open_path(path)
    panel, window = person.layers, person.window
    combo = panel.blend
    assert [combo.itemText(i) for i in range(combo.count())] == [mode.label for mode in MODES.values()]
    assert person.document.active_layer.name == "Ink" and combo.currentText() == "Normal" and combo.isEnabled()
    qtbot.waitUntil(lambda: _close(_canvas_rgb(person.canvas), list(PAINT)))
    assert not window.isWindowModified()

    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the next mode in the list: Multiply
    assert combo.currentText() == "Multiply"
    assert person.document.active_layer.blend == "svg:multiply"
    qtbot.waitUntil(lambda: _close(_canvas_rgb(person.canvas), MULTIPLIED))
    assert window.isWindowModified() and person.document.history.labels.count("Layer blend mode") == 1

    person.press("Ctrl+Z")
    assert person.document.active_layer.blend == NORMAL and combo.currentText() == "Normal"
    qtbot.waitUntil(lambda: _close(_canvas_rgb(person.canvas), list(PAINT)))
    history = person.document.history
    assert history.index == 0 and not history.can_undo and history.redo_label == "Layer blend mode"  # one step
    assert not window.isWindowModified()

    combo.setCurrentIndex(combo.findText("Multiply"))
    qtbot.waitUntil(lambda: _close(_canvas_rgb(person.canvas), MULTIPLIED))
    person.press("Ctrl+S")
    assert not window.isWindowModified()
    again = load_ora(path)
    assert [(layer.name, layer.blend) for layer in again.layers] == [("Paper", NORMAL), ("Ink", "svg:multiply")]

    assert person.documents.open_path(path)  # reopened in the window: the panel shows the kept mode
    assert person.document.active_layer.blend == "svg:multiply" and combo.currentText() == "Multiply"
    qtbot.waitUntil(lambda: _close(_canvas_rgb(person.canvas), MULTIPLIED))
    if os.environ.get("ATELIER_SCREENSHOTS"):
        window.grab().save(os.path.join(os.environ["ATELIER_SCREENSHOTS"], "layer_blend.png"))


def test_a_mode_the_compositor_does_not_draw_is_shown_and_kept_until_another_is_chosen(workspace):
    document = Document.from_pixels(np.full((8, 8, 3), BACKDROP, np.uint8), "Paper")
    document.history.do(AddLayer(Layer.blank("Krita only", 8, 8, PAINT + (255,))))
    document.update_layer(document.active_layer.id, blend="krita:linear_burn")
    workspace.documents.set_document(document)
    combo = workspace.layers.blend
    assert combo.currentText() == "krita:linear_burn (shown as Normal)" and combo.count() == len(MODES) + 1
    combo.setCurrentIndex(combo.findText("Screen"))
    assert document.active_layer.blend == "svg:screen" and combo.count() == len(MODES)
    workspace.actions["undo"].trigger()
    assert document.active_layer.blend == "krita:linear_burn" and combo.currentIndex() == len(MODES)
    document.set_active_layer(document.layers[0].id)  # a layer in a known mode: the extra entry goes
    assert combo.currentText() == "Normal" and combo.count() == len(MODES)


@pytest.mark.parametrize("op", list(MODES))
def test_every_mode_in_the_table_is_an_edit_and_an_unknown_one_is_refused(op):
    document = Document.from_pixels(np.full((4, 4, 3), BACKDROP, np.uint8), "Paper")
    layer_id = document.active_layer.id
    document.history.do(SetLayerBlend(layer_id, op))
    assert document.active_layer.blend == op
    with pytest.raises(EditError, match="choose one of"):
        document.history.do(SetLayerBlend(layer_id, "svg:not-a-mode"))
    assert document.active_layer.blend == op
