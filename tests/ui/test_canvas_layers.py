"""The layers and history panels edit the real document through its history."""

import numpy as np
from canvas_support import gradient
from PySide6.QtCore import QModelIndex, Qt

from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer


def _document(workspace) -> Document:
    document = Document.from_pixels(gradient(), "Background")
    document.history.do(AddLayer(Layer.blank("Red", 64, 64, (255, 0, 0, 255))))
    document.history.do(AddLayer(Layer.blank("Blue", 32, 32, (0, 0, 255, 255))))
    workspace.documents.set_document(document)
    return document


def _names(panel) -> list[str]:
    return [panel.list.item(row).text() for row in range(panel.list.count())]


def test_the_panel_lists_layers_top_first_and_follows_the_active_layer(workspace):
    panel = workspace.layers
    document = _document(workspace)
    assert _names(panel) == ["Blue", "Red", "Background"] and panel.list.currentRow() == 0
    panel.list.setCurrentRow(2)
    assert document.active_layer.name == "Background"
    assert panel.list.item(0).icon().availableSizes() or not panel.list.item(0).icon().isNull()


def test_add_duplicate_delete_and_undo_through_the_buttons(qtbot, workspace):
    panel = workspace.layers
    document = _document(workspace)
    qtbot.mouseClick(panel.buttons["add"], Qt.MouseButton.LeftButton)
    assert _names(panel)[0] == "Layer 4" and document.active_layer.name == "Layer 4"
    qtbot.mouseClick(panel.buttons["duplicate"], Qt.MouseButton.LeftButton)
    assert _names(panel)[:2] == ["Layer 4 copy", "Layer 4"]
    qtbot.mouseClick(panel.buttons["delete"], Qt.MouseButton.LeftButton)
    assert _names(panel) == ["Layer 4", "Blue", "Red", "Background"]
    workspace.actions["undo"].trigger()
    workspace.actions["undo"].trigger()
    workspace.actions["undo"].trigger()
    assert _names(panel) == ["Blue", "Red", "Background"]


def test_rename_by_editing_the_item_and_an_empty_name_is_refused(workspace):
    panel = workspace.layers
    document = _document(workspace)
    errors = []
    panel.message.connect(errors.append)
    panel.list.item(1).setText("  Warm   red ")
    assert document.layers[1].name == "Warm red" and _names(panel)[1] == "Warm red"
    panel.list.item(1).setText("   ")
    assert "empty" in errors[0] and _names(panel)[1] == "Warm red"
    assert document.history.labels[-1] == "Rename layer"


def test_the_checkbox_shows_and_hides_a_layer(workspace):
    panel, canvas = workspace.layers, workspace.canvas
    document = _document(workspace)
    panel.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not document.layers[2].visible
    assert canvas.image.pixelColor(5, 5).getRgb()[:3] == (255, 0, 0)
    workspace.actions["undo"].trigger()
    assert document.layers[2].visible and panel.list.item(0).checkState() == Qt.CheckState.Checked


def test_one_opacity_drag_is_one_undo_step(qtbot, workspace):
    panel = workspace.layers
    document = _document(workspace)
    panel.opacity.sliderPressed.emit()
    for value in (90, 70, 50):
        panel.opacity.setValue(value)
    panel.opacity.sliderReleased.emit()
    assert document.active_layer.opacity == 0.5 and panel.opacity_label.text() == "50%"
    assert document.history.labels.count("Layer opacity") == 1
    composite = document.composite()[5, 5]
    assert abs(int(composite[0]) - 128) <= 1 and abs(int(composite[2]) - 127) <= 1
    workspace.actions["undo"].trigger()
    assert document.active_layer.opacity == 1.0 and panel.opacity.value() == 100


def test_dragging_a_row_reorders_the_layers(qtbot, workspace):
    panel = workspace.layers
    document = _document(workspace)
    # what an internal drag and drop does to the list's model: the top row goes below "Red"
    panel.list.model().moveRow(QModelIndex(), 0, QModelIndex(), 2)
    qtbot.waitUntil(lambda: [layer.name for layer in document.layers] == ["Background", "Blue", "Red"], timeout=2000)
    assert _names(panel) == ["Red", "Blue", "Background"]
    assert document.history.labels[-1] == "Reorder layers"
    assert workspace.layers.shift_layer(1)  # the Raise action: back on top
    assert [layer.name for layer in document.layers][-1] == "Blue"


def test_merge_down_with_ctrl_e(qtbot, workspace):
    document = _document(workspace)
    assert workspace.actions["merge-down"].shortcut().toString() == "Ctrl+E"
    before = document.composite()
    workspace.actions["merge-down"].trigger()
    assert _names(workspace.layers) == ["Red", "Background"]
    assert np.array_equal(document.composite(), before)
    workspace.actions["merge-down"].trigger()
    workspace.actions["merge-down"].trigger()  # the bottom layer: refused, with the reason
    assert "bottom layer" in workspace.window.prompt_panel.notice.text()


def test_history_panel_lists_steps_and_a_click_goes_back_to_one(qtbot, workspace):
    history = workspace.history
    document = _document(workspace)
    workspace.layers.add_layer()
    labels = [history.list.item(row).text() for row in range(history.list.count())]
    assert labels == ["Start: New canvas", "Add layer Red", "Add layer Blue", "Add layer Layer 4"]
    assert history.list.currentRow() == 3 and history.list.item(3).font().bold()
    history.list.itemClicked.emit(history.list.item(1))
    assert [layer.name for layer in document.layers] == ["Background", "Red"]
    assert history.list.item(1).font().bold() and history.list.count() == 4  # the undone steps stay, greyed
    workspace.actions["redo"].trigger()
    assert [layer.name for layer in document.layers] == ["Background", "Red", "Blue"]
    assert workspace.actions["undo"].text() == "&Undo Add layer Blue"
