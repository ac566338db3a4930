"""At the size we design for (1280x800) the window's lists are usable and the canvas tools read as tools."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt

from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams
from tests.ui.user_actions import Person


def fully_shown(view, rects) -> int:
    area = view.viewport().rect()
    return sum(1 for rect in rects if area.contains(rect))


def test_at_1280x800_layers_list_six_rows_and_the_gallery_six_thumbnails(qtbot, start_atelier, app_paths, tmp_path):
    for seed in range(9):
        save_generation(Image.new("RGB", (64, 64), (seed * 25, 90, 140)),
                        GenerationParams(prompt=f"picture {seed}", width=64, height=64, seed=seed),
                        app_paths.outputs_dir, model_name="tiny")
    app = start_atelier({})
    assert (app.window.width(), app.window.height()) == (1280, 800)
    person = Person(app, qtbot, tmp_path)
    person.open_picture()
    for _ in range(7):
        person.layers.add_layer()
    layers = person.layers.list
    assert fully_shown(layers, [layers.visualItemRect(layers.item(row)) for row in range(layers.count())]) >= 5

    dock = app.gallery.dock
    dock.raise_()
    qtbot.waitUntil(lambda: dock.isVisible() and dock.model.rowCount() == 9, timeout=10000)
    view = dock.view
    shown = fully_shown(view, [view.visualRect(dock.model.index(row)) for row in range(9)])
    assert shown >= 6, f"only {shown} thumbnails fit in the gallery at 1280x800"
    assert app.window.canvas.width() >= 420, "the side panels squeezed the canvas"


def test_the_canvas_tools_are_icons_with_tooltips_naming_their_keys(start_atelier):
    app = start_atelier({})
    strip = app.workspace.strip
    assert strip.isVisible() and strip.orientation().name == "Vertical"
    for action in strip.actions():
        if action.isSeparator():
            continue
        button = strip.widgetForAction(action)
        assert not action.icon().isNull() and button.toolButtonStyle().name == "ToolButtonIconOnly", action.text()
        keys = action.shortcut().toString()
        assert action.toolTip() and (not keys or f"({keys})" in action.toolTip()), action.toolTip()
    options = app.workspace.options
    assert not options.expand_button.icon().isNull() and options.expand_button.toolTip()


def test_at_1280x800_every_box_and_label_in_the_prompt_panel_shows_its_whole_text(qtbot, start_atelier, tiny_sd15):
    """No clipped words at the size we design for: each combo box's current text fits its text field, and each
    one-line label fits its width (a long note wraps or is elided with an ellipsis, never cut mid-word)."""
    from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QStyleOptionComboBox

    app = start_atelier({"tiny-sd15": tiny_sd15})
    panel = app.window.prompt_panel
    qtbot.mouseClick(panel.advanced_toggle, Qt.MouseButton.LeftButton)
    panel.hires.enabled.setChecked(True)
    qtbot.waitUntil(lambda: panel.guidance.isVisible(), timeout=2000)
    boxes = [box for box in panel.findChildren(QComboBox) if box.isVisible()]
    assert len(boxes) >= 5  # model, LoRA, mode, hires upscaler, sampler, VAE
    for box in boxes:
        option = QStyleOptionComboBox()
        box.initStyleOption(option)
        field = box.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, box)
        assert box.fontMetrics().horizontalAdvance(box.currentText()) <= field.width(), box.currentText()
    for label in panel.findChildren(QLabel):
        if label.isVisible() and label.text() and not label.wordWrap() and "<" not in label.text():
            assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width(), label.text()
