"""Acceptance checks for the Image, Layer and Tools menus and the canvas gestures listed in Help.

Same shape as command_checks.py: a fresh Atelier per check, the command done as a person does it,
and an assertion on what the person sees (the canvas pixels, the Layers list, the tool bar).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from desktop.core.geometry import Rect
from tests.ui.canvas_support import at, corner, drag
from tests.ui.user_actions import Person, make_active


def _visible(p: Person) -> bool:
    """The whole canvas is inside the view."""
    shown = p.canvas.image_to_widget(QRectF(0, 0, p.document.width, p.document.height))
    return QRectF(p.canvas.rect()).contains(shown)


# ---------------------------------------------------------------------- Image
def expand_all_sides(p: Person) -> None:
    p.open_picture(64, 64)
    p.run()
    grown = 64 + 2 * p.app.workspace.options.expand_by.value()
    assert (p.document.width, p.document.height) == (grown, grown)
    assert _visible(p), "the expanded canvas runs out of the view: it was not refitted"
    assert p.window.prompt_panel.mode.currentData() == "outpaint"


def crop_to_selection(p: Person) -> None:
    p.open_picture(64, 64)
    p.app.workspace.actions["tool-select"].trigger()
    drag(p.qtbot, p.canvas, [(8, 8), (40, 24)], where=corner)
    p.run()
    assert (p.document.width, p.document.height) == (32, 16) and p.canvas.image.width() == 32


def upscale(p: Person, _upscalers) -> None:
    """Ctrl+Alt+U: the dialog, Real-ESRGAN (fast) 2x in 32 px tiles, OK: the canvas doubles, a new top layer."""
    from PySide6.QtWidgets import QDialogButtonBox

    p.open_picture(40, 32)
    p.run()
    dialog = p.app.upscale.dialog
    p.qtbot.waitUntil(lambda: dialog.isVisible())
    dialog.model.setCurrentIndex(dialog.model.findData("realesr-animevideov3"))
    dialog.scale.setCurrentIndex(dialog.scale.findData(2))
    dialog.tile.setValue(32)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    p.qtbot.waitUntil(lambda: p.app.upscale.handle.done, timeout=60000)
    assert (p.document.width, p.document.height) == (80, 64) and p.canvas.image.width() == 80
    assert p.layer_names()[0].endswith("2x") and len(p.layer_names()) == 2


# ---------------------------------------------------------------------- Layer
def new_layer(p: Person) -> None:
    p.open_picture()
    p.run()
    assert p.layer_names() == ["Layer 2", "picture"]


def duplicate_layer(p: Person) -> None:
    p.open_picture()
    p.run()
    assert p.layer_names() == ["picture copy", "picture"]


def delete_layer(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.run()
    assert p.layer_names() == ["picture"]


def rename_layer(p: Person) -> None:
    p.open_picture()
    p.run()  # F2: the active layer's name opens for editing in the list
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and p.layers.list.isAncestorOf(editor)
    editor.selectAll()
    QTest.keyClicks(editor, "Sky")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    p.qtbot.waitUntil(lambda: p.layer_names() == ["Sky"], timeout=3000)  # the list commits after the key


def show_hide_layer(p: Person) -> None:
    p.open_picture()
    p.run()
    assert p.layers.list.item(0).checkState() == Qt.CheckState.Unchecked
    assert p.canvas.image.pixelColor(5, 5).alpha() == 0
    p.run()
    assert p.canvas.image.pixelColor(5, 5).alpha() == 255


def raise_layer(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.layers.list.setCurrentRow(1)  # the picture, below the new layer
    p.run()
    assert p.layer_names() == ["picture", "Layer 2"]


def lower_layer(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.run()
    assert p.layer_names() == ["picture", "Layer 2"]


def merge_down(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.run()
    assert len(p.layer_names()) == 1


# ---------------------------------------------------------------------- Tools
def brush(p: Person) -> None:
    p.open_picture()
    p.app.workspace.actions["tool-eraser"].trigger()
    p.run()
    assert p.action.isChecked()
    drag(p.qtbot, p.canvas, [(20, 20), (40, 20)])
    assert p.canvas.image.pixelColor(30, 20).getRgb() == (20, 20, 24, 255)  # the brush colour


def eraser(p: Person) -> None:
    p.open_picture()
    p.run()
    drag(p.qtbot, p.canvas, [(20, 20), (40, 20)])
    assert p.action.isChecked() and p.canvas.image.pixelColor(30, 20).alpha() == 0


def rectangle_select(p: Person) -> None:
    p.open_picture()
    p.run()
    drag(p.qtbot, p.canvas, [(10, 10), (30, 20)], where=corner)
    assert p.action.isChecked() and p.document.selection == Rect(10, 10, 20, 10)


def move_layer(p: Person) -> None:
    p.open_picture()
    p.run()
    drag(p.qtbot, p.canvas, [(20, 20), (25, 23), (30, 25)])
    layer = p.document.active_layer
    assert p.action.isChecked() and (layer.x, layer.y) == (10, 5)


def pan_tool(p: Person) -> None:
    p.open_picture()
    before = QPointF(p.canvas.offset)
    p.run()
    drag(p.qtbot, p.canvas, [(20, 20), (30, 30)])
    moved = p.canvas.offset - before
    assert p.action.isChecked() and moved.x() > 0 and moved.y() > 0 and not p.document.history.can_undo


def _brush_size(p: Person) -> int:
    return p.app.workspace.options.size.value()


def bigger_brush(p: Person) -> None:
    p.run()
    assert _brush_size(p) == 29  # 24 px grows by a fifth


def smaller_brush(p: Person) -> None:
    p.run()
    assert _brush_size(p) == 20


def harder_brush(p: Person) -> None:
    p.run()
    assert p.app.workspace.options.hardness.value() == 90


def softer_brush(p: Person) -> None:
    p.run()
    assert p.app.workspace.options.hardness.value() == 70


# ---------------------------------------------------------------------- gestures listed in Help
def generate(p: Person) -> None:
    """Ctrl+Enter while typing the prompt: the picture appears on the canvas as a layer named after it, and
    the Seed field shows the seed it was made with."""
    prompt = p.window.prompt_panel.prompt
    make_active(p.window)
    prompt.setFocus()
    QTest.keyClicks(prompt, "a lighthouse")
    with p.qtbot.waitSignal(p.app.controller.image_ready, timeout=60000) as made:
        QTest.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    p.qtbot.waitUntil(lambda: p.document is not None and p.layer_names() == ["a lighthouse"], timeout=10000)
    assert p.canvas.image.width() == 64
    assert p.window.prompt_panel.seed.text() == str(made.args[0].params.seed)


def cancel_generation(p: Person) -> None:
    """Esc while an image is being made stops it: the progress bar says so and nothing is added."""
    panel = p.window.prompt_panel
    panel.steps.setValue(150)
    panel.prompt.setPlainText("a long one")
    make_active(p.window)
    panel.generate_button.click()
    p.qtbot.waitUntil(lambda: panel.progress.maximum() == 150 and panel.progress.value() >= 1, timeout=60000)
    QTest.keyClick(p.canvas, Qt.Key.Key_Escape)
    p.qtbot.waitUntil(lambda: not panel.cancel_button.isEnabled(), timeout=30000)
    assert "Generation cancelled" in p.status()
    assert p.document is None or not p.document.layers or p.layer_names() == []
    assert list(p.app.outputs_dir().rglob("*.png")) == []


def wheel_zoom(p: Person) -> None:
    p.open_picture()
    pixel = QRectF(20.5, 30.5, 0, 0)  # the centre of pixel (20, 30)
    where = p.canvas.image_to_widget(pixel).topLeft()
    zoom = p.canvas.zoom
    event = QWheelEvent(where, QPointF(p.canvas.mapToGlobal(where)), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(p.canvas, event)
    assert p.canvas.zoom == zoom * 1.25
    after = p.canvas.image_to_widget(pixel).topLeft()
    assert abs(after.x() - where.x()) < 0.01 and abs(after.y() - where.y()) < 0.01  # it stays under the pointer


def middle_button_pan(p: Person) -> None:
    p.open_picture()
    before = QPointF(p.canvas.offset)
    drag(p.qtbot, p.canvas, [(20, 20), (30, 25)], button=Qt.MouseButton.MiddleButton)
    moved = p.canvas.offset - before
    assert round(moved.x() / p.canvas.zoom) == 10 and round(moved.y() / p.canvas.zoom) == 5
    assert not p.document.history.can_undo


def right_drag_erases(p: Person) -> None:
    p.open_picture()
    drag(p.qtbot, p.canvas, [(20, 20), (40, 20)], button=Qt.MouseButton.RightButton)
    assert p.canvas.image.pixelColor(30, 20).alpha() == 0 and p.canvas.image.pixelColor(30, 50).alpha() == 255


def shift_drag_square(p: Person) -> None:
    p.open_picture()
    p.app.workspace.actions["tool-select"].trigger()
    canvas, shift, left = p.canvas, Qt.KeyboardModifier.ShiftModifier, Qt.MouseButton.LeftButton
    start, end = corner(canvas, 10, 10), corner(canvas, 30, 16)
    p.qtbot.mousePress(canvas, left, shift, start)
    # Shift stays down while the pointer moves: the move events carry it (QTest's own moves cannot)
    QApplication.sendEvent(canvas, QMouseEvent(QEvent.Type.MouseMove, QPointF(end), QPointF(canvas.mapToGlobal(end)),
                                               Qt.MouseButton.NoButton, left, shift))
    p.qtbot.mouseRelease(canvas, left, shift, end)
    assert p.document.selection == Rect(10, 10, 20, 20)


def drag_outside_an_edge(p: Person) -> None:
    p.open_picture(64, 64)
    canvas = p.canvas
    edge = canvas.image_to_widget(QRectF(64, 32, 0, 0)).topLeft() + QPointF(6, 0)  # just right of the edge
    start = edge.toPoint()
    end = (edge + QPointF(24 * canvas.zoom, 0)).toPoint()
    p.qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    p.qtbot.mouseMove(canvas, end)
    p.qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    assert p.document.width == 88 and p.document.height == 64
    assert p.window.prompt_panel.mode.currentData() == "outpaint" and _visible(p)


def escape_while_dragging(p: Person) -> None:
    p.open_picture()
    before = p.document.composite().copy()
    canvas = p.canvas
    p.qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 10, 10))
    p.qtbot.mouseMove(canvas, at(canvas, 40, 40))
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    p.qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 40, 40))
    assert np.array_equal(p.document.composite(), before) and not p.document.history.can_undo


def finish_with_full_vae(p: Person, tiny_taesd) -> None:
    """A Fast mode draft (TAESD) made with Ctrl+Enter, then Image > Finish with Full VAE (Ctrl+Shift+F): the
    model's full VAE decodes the draft's latents into a new layer over it, and the final joins the gallery."""
    import shutil

    shutil.copytree(tiny_taesd, p.app.models_dir() / "taesd" / "taesd")  # the TAESD Fast mode drafts with
    p.app.refresh_models()
    panel = p.window.prompt_panel
    panel.fast_mode.check.click()
    prompt = panel.prompt
    make_active(p.window)
    prompt.setFocus()
    QTest.keyClicks(prompt, "a kite")
    p.qtbot.waitUntil(lambda: p.app.controller.idle, timeout=30000)  # the model's preload, if any
    with p.qtbot.waitSignal(p.app.controller.image_ready, timeout=60000) as drafted:
        QTest.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert drafted.args[0].params.vae == "taesd"
    p.qtbot.waitUntil(lambda: p.app.controller.idle and p.layer_names() == ["a kite"], timeout=20000)
    with p.qtbot.waitSignal(p.app.controller.image_ready, timeout=60000) as finished:
        p.run()
    p.qtbot.waitUntil(lambda: p.layer_names() == ["a kite (full VAE)", "a kite"], timeout=20000)  # top first
    final = finished.args[0]
    assert final.params.vae == "" and final.path and final.path != drafted.args[0].path
    p.qtbot.waitUntil(lambda: p.app.gallery.dock.select_path(final.path), timeout=5000)
