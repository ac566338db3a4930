"""The canvas view on a real window: what it shows matches the document, and the tools edit it."""

import numpy as np
from canvas_support import at, canvas_pixel, corner, drag, gradient
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer, SetLayerOpacity, SetSelection
from desktop.core.geometry import Rect


def _open(workspace, rgba=None) -> Document:
    document = Document.from_pixels(gradient() if rgba is None else rgba, "Picture")
    workspace.documents.set_document(document)
    return document


def test_the_view_shows_the_composite_and_follows_every_edit(workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    assert canvas.image.size().width() == 64 and canvas_pixel(canvas, 10, 20) == tuple(document.composite()[20, 10])
    red = Layer.blank("Red", 16, 16, (255, 0, 0, 255), x=8, y=8)
    document.history.do(AddLayer(red))
    document.history.do(SetLayerOpacity(red.id, 0.5))
    assert np.array_equal(_shown(canvas), document.composite()[..., :3])
    document.history.undo()
    document.history.undo()
    assert np.array_equal(_shown(canvas), gradient()[..., :3])


def _shown(canvas) -> np.ndarray:
    image = canvas.image
    return np.array([[canvas_pixel(canvas, x, y)[:3] for x in range(image.width())] for y in range(image.height())], np.uint8)


def test_a_brush_stroke_with_the_mouse_paints_the_layer_and_one_undo_takes_it_back(qtbot, workspace):
    canvas, tools = workspace.canvas, workspace.tools
    document = _open(workspace)
    tools.set_color((0, 0, 255))
    tools.set_size(6)
    tools.set_hardness(1.0)
    drag(qtbot, canvas, [(10, 32), (30, 32), (50, 32)])
    layer = document.active_layer
    assert tuple(layer.pixels[32, 30]) == (0, 0, 255, 255) and tuple(layer.pixels[5, 5]) == tuple(gradient()[5, 5])
    assert canvas_pixel(canvas, 30, 32) == (0, 0, 255, 255)
    assert document.history.labels == ["Paint layer"] and document.modified
    workspace.actions["undo"].trigger()
    assert np.array_equal(layer.pixels, gradient()) and canvas_pixel(canvas, 30, 32) == tuple(gradient()[32, 30])
    workspace.actions["redo"].trigger()
    assert tuple(layer.pixels[32, 30]) == (0, 0, 255, 255)


def test_quick_mask_paints_the_mask_shown_as_a_tint_and_right_drag_erases_it(qtbot, workspace):
    canvas, tools = workspace.canvas, workspace.tools
    document = _open(workspace)
    workspace.actions["quick-mask"].trigger()
    assert tools.mask_mode and tools.tool == "brush"
    tools.set_size(8)
    drag(qtbot, canvas, [(8, 20), (56, 20)])
    assert document.mask[20, 30] == 255 and document.mask[50, 30] == 0
    assert np.array_equal(document.active_layer.pixels, gradient())  # the picture is untouched
    tint = canvas.display.tint()
    assert tint is not None and tint.pixelColor(30, 20).alpha() > 80 and tint.pixelColor(30, 50).alpha() == 0
    drag(qtbot, canvas, [(20, 20), (40, 20)], button=Qt.MouseButton.RightButton)
    assert document.mask[20, 30] == 0 and document.mask[20, 10] == 255
    workspace.actions["invert-mask"].trigger()
    assert document.mask[20, 30] == 255 and document.mask[50, 50] == 255
    workspace.actions["clear-mask"].trigger()
    assert not document.mask.any() and canvas.display.tint() is None
    assert document.history.labels[-2:] == ["Invert mask", "Clear mask"]


def test_rectangle_select_with_a_drag_a_click_deselects(qtbot, workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    workspace.actions["tool-select"].trigger()
    drag(qtbot, canvas, [(10, 12), (30, 30), (42, 40)], where=corner)
    assert document.selection == Rect(10, 12, 32, 28)
    assert workspace.window.prompt_panel.model.width == 64  # the short side is generated at 64 at least
    drag(qtbot, canvas, [(20, 20)])
    assert document.selection is None
    workspace.actions["select-all"].trigger()
    assert document.selection == document.rect
    workspace.actions["deselect"].trigger()
    assert document.selection is None


def test_move_tool_drags_the_active_layer_as_one_step(qtbot, workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    document.history.do(AddLayer(Layer.blank("Dot", 4, 4, (255, 255, 255, 255), x=4, y=4)))
    workspace.actions["tool-move"].trigger()
    drag(qtbot, canvas, [(5, 5), (10, 8), (15, 12)])
    assert (document.active_layer.x, document.active_layer.y) == (14, 11)
    assert document.history.labels[-1] == "Move layer" and len(document.history.labels) == 2
    assert canvas_pixel(canvas, 15, 12) == (255, 255, 255, 255)


def test_dragging_a_canvas_edge_outward_expands_it_for_outpainting(qtbot, workspace):
    canvas, panel = workspace.canvas, workspace.window.prompt_panel
    document = _open(workspace)
    right = canvas.image_to_widget(QRectF(64, 32.5, 0, 0)).topLeft().toPoint()
    start = right + QPoint(4, 0)  # just outside the right edge
    end = start + QPoint(round(30 * canvas.zoom), 0)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    assert (document.width, document.height) == (96, 64)  # 30 px, snapped to a multiple of 8
    assert document.composite()[32, 80, 3] == 0  # the new area is empty: outpaint fills it
    assert panel.model.mode == "outpaint" and panel.generate_button.isEnabled()
    assert workspace.options.expand_side(3)  # "Expand by N px" at the bottom
    assert (document.width, document.height) == (96, 64 + workspace.options.expand_by.value())


def test_outpaint_beyond_the_size_limit_is_refused_naming_it(workspace):
    _open(workspace)
    errors = []
    workspace.canvas.message.connect(errors.append)
    assert not workspace.canvas.expand(right=40000)
    assert "16384" in errors[0] and workspace.canvas.document.width == 64


def test_painting_a_hidden_layer_is_refused_with_the_reason(qtbot, workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    workspace.actions["layer-visible"].trigger()
    errors = []
    canvas.message.connect(errors.append)
    drag(qtbot, canvas, [(10, 10), (20, 20)])
    assert "hidden" in errors[0] and np.array_equal(document.layers[0].pixels, gradient())


def test_brush_size_and_hardness_keys_and_tool_keys(qtbot, workspace):
    tools, actions = workspace.tools, workspace.actions
    tools.set_size(20)
    actions["bigger"].trigger()
    assert tools.size == 24 and workspace.options.size.value() == 24
    actions["smaller"].trigger()
    actions["smaller"].trigger()
    assert tools.size == 17
    actions["softer"].trigger()
    assert abs(tools.hardness - 0.7) < 1e-9
    for key, tool in (("E", "eraser"), ("M", "select"), ("V", "move"), ("H", "pan"), ("B", "brush")):
        assert actions[f"tool-{tool}"].shortcut().toString() == key
        actions[f"tool-{tool}"].trigger()
        assert tools.tool == tool
    listed = dict(workspace.window.shortcuts)
    assert listed["Ctrl+E"] == "Merge Down" and listed["Ctrl+S"].startswith("Save") and "Q" in listed


def test_zoom_shows_crisp_pixels_and_fit_brings_the_canvas_back(workspace):
    canvas = workspace.canvas
    _open(workspace)
    canvas.zoom_at(16.0, QPointF(canvas.width() / 2, canvas.height() / 2))
    shot = canvas.grab().toImage()
    centre = canvas.widget_to_image(QPointF(canvas.width() / 2, canvas.height() / 2))
    x, y = int(centre.x()), int(centre.y())
    inside = at(canvas, x, y)
    expected = tuple(gradient()[y, x, :3])
    # every screen pixel of one canvas pixel has its exact colour (no smoothing at high zoom)
    colors = {shot.pixelColor(inside.x() + dx, inside.y() + dy).getRgb()[:3] for dx in (-3, 0, 3) for dy in (-3, 0, 3)}
    assert colors == {expected}
    workspace.window.canvas.fit()
    assert canvas.zoom < 16


def test_dropping_an_image_file_adds_a_layer_where_it_lands(qtbot, workspace, tmp_path):
    from canvas_support import write_png

    canvas = workspace.canvas
    document = _open(workspace)
    dropped = write_png(tmp_path / "stamp.png", np.full((8, 8, 4), 200, np.uint8))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    event = QDropEvent(QPointF(at(canvas, 40, 20)), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    canvas.dropEvent(event)  # Qt delivers drops only from the platform's own drag; the handler is the same
    layer = document.layers[-1]
    assert layer.name == "stamp" and (layer.x, layer.y) == (36, 16)


def test_escape_mid_stroke_cancels_it(qtbot, workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 10, 10))
    qtbot.mouseMove(canvas, at(canvas, 40, 40))
    assert not np.array_equal(document.layers[0].pixels, gradient())
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 40, 40))
    assert np.array_equal(document.layers[0].pixels, gradient()) and document.history.labels == []


def test_selection_is_drawn_as_a_dashed_rectangle(workspace):
    canvas = workspace.canvas
    document = _open(workspace)
    document.history.do(SetSelection(Rect(8, 8, 32, 32)))
    shot = canvas.grab().toImage()
    corner = canvas.image_to_widget(QRectF(8, 8, 32, 32))
    top = int(corner.top())
    row = [shot.pixelColor(x, top).lightness() for x in range(int(corner.left()) + 2, int(corner.right()) - 2)]
    assert max(row) > 200 and min(row) < 60  # light and dark dashes alternate along the edge
    assert document.history.labels[-1] == "Select rectangle"
