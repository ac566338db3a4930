"""Settings > Model Folders as a user meets it: detected apps, a folder added through the folder dialog,
an unplugged drive shown as offline, toggles and removal saved as they happen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLineEdit

from desktop.core.model_folders import A1111, COMFYUI, OLLAMA, detect_folders
from desktop.ui.model_folders_dialog import OFFLINE, ModelFoldersDialog
from tests.core import model_trees


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    model_trees.a1111(home / "stable-diffusion-webui")
    model_trees.comfyui(home / "ComfyUI")
    model_trees.ollama(home / ".ollama" / "models")
    return home


def tick(dialog, row: int) -> None:
    """Click the check box at the left of the row's first cell, as a user does."""
    rect = dialog.table.visualItemRect(dialog.table.item(row, 0))
    QTest.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 12, rect.center().y()))


def test_detected_folders_are_offered_and_a_tick_uses_them(qtbot, home, tmp_path):
    unplugged = str(tmp_path / "media" / "usb" / "ComfyUI")
    dialog = ModelFoldersDialog([unplugged], [], detect_folders(home, {}, "Linux", include_system=False))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    changes = []
    dialog.changed.connect(lambda on, off: changes.append((on, off)))
    apps = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert apps[str(home / "stable-diffusion-webui")] == A1111 and apps[str(home / "ComfyUI")] == COMFYUI
    assert apps[str(home / ".ollama" / "models")] == OLLAMA
    assert dialog.state_of(unplugged) == OFFLINE  # shown, not an error
    assert dialog.table.item(dialog.row_for(unplugged), 0).checkState() == Qt.CheckState.Checked
    holds = dialog.table.item(dialog.row_for(str(home / "stable-diffusion-webui")), 2).text()
    assert "LoRA" in holds and "ControlNet" in holds and "upscaler" in holds
    dialog.grab().save("/tmp/plug/model-folders.png")
    comfy_row = dialog.row_for(str(home / "ComfyUI"))
    tick(dialog, comfy_row)
    assert changes[-1] == ([unplugged, str(home / "ComfyUI")], [])
    assert dialog.state_of(str(home / "ComfyUI")).startswith("used")
    tick(dialog, dialog.row_for(unplugged))  # switched off: kept in the list as off
    assert changes[-1] == ([str(home / "ComfyUI")], [unplugged])
    dialog.table.selectRow(dialog.row_for(str(home / "ComfyUI")))
    assert not dialog.remove_button.isEnabled()  # a detected folder is not removed (it would come back)
    dialog.table.selectRow(dialog.row_for(unplugged))
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert changes[-1] == ([str(home / "ComfyUI")], []) and dialog.row_for(unplugged) == -1


def test_add_a_folder_through_the_folder_dialog(qtbot, home, tmp_path):
    invoke = model_trees.invokeai(tmp_path / "drive" / "invokeai")
    dialog = ModelFoldersDialog([], [], [])
    qtbot.addWidget(dialog)
    dialog.show()
    changes = []
    dialog.changed.connect(lambda on, off: changes.append(on))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    chooser = dialog.file_dialog
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    name_box = chooser.findChild(QLineEdit, "fileNameEdit")
    chooser.setDirectory(str(invoke.parent))
    name_box.setText(str(invoke))
    qtbot.keyClick(name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(changes), timeout=5000)
    assert changes[-1] == [str(invoke)]
    row = dialog.row_for(str(invoke))
    assert dialog.table.item(row, 1).text() == "InvokeAI" and "(InvokeAI)" in dialog.status.text()
