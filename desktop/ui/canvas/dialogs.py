"""The questions the canvas asks: canvas size, file names, unsaved changes, crash recovery."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from desktop.core.image_io import FILE_PATTERNS, MAX_SIDE
from desktop.core.recovery import RecoveryFile
from desktop.ui import file_dialog

OPEN_FILTER = (f"Images and projects ({' '.join(FILE_PATTERNS)} *.ora);;OpenRaster projects (*.ora);;"
               f"Images ({' '.join(FILE_PATTERNS)});;All files (*)")
PROJECT_FILTER = "OpenRaster project (*.ora)"
EXPORT_FILTER = "PNG image (*.png);;JPEG image (*.jpg *.jpeg);;WebP image (*.webp)"
BACKGROUNDS = {"White": (255, 255, 255, 255), "Black": (0, 0, 0, 255), "Transparent": (0, 0, 0, 0)}


class NewCanvasDialog(QDialog):
    """Asks for the size and background of a blank canvas."""

    def __init__(self, width: int, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New canvas")
        self.width_box = QSpinBox(minimum=1, maximum=MAX_SIDE, value=width, suffix=" px")
        self.height_box = QSpinBox(minimum=1, maximum=MAX_SIDE, value=height, suffix=" px")
        self.background = QComboBox()
        self.background.addItems(list(BACKGROUNDS))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Background", self.background)
        form.addRow(buttons)

    def choice(self) -> tuple[int, int, tuple[int, int, int, int]] | None:
        if self.exec() != QDialog.DialogCode.Accepted:
            return None
        return self.width_box.value(), self.height_box.value(), BACKGROUNDS[self.background.currentText()]


def ask_open_path(parent: QWidget, folder: str | Path = "") -> str | None:
    return file_dialog.open_file(parent, "Open image or project", folder, OPEN_FILTER)


def ask_project_path(parent: QWidget, suggestion: str | Path) -> str | None:
    return file_dialog.save_file(parent, "Save project", suggestion, PROJECT_FILTER)


def ask_export_path(parent: QWidget, suggestion: str | Path) -> str | None:
    return file_dialog.save_file(parent, "Export flattened image", suggestion, EXPORT_FILTER)


def save_changes_box(parent: QWidget, title: str) -> QMessageBox:
    """The unsaved-changes question (Save, Discard, Cancel); the caller runs it modally or not."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes", f"Save the changes to {title}?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("Without saving, they are lost.")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return box


ANSWERS = {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}


def ask_save_changes(parent: QWidget, title: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = save_changes_box(parent, title)
    box.exec()
    return ANSWERS.get(box.standardButton(box.clickedButton()), "cancel")


def ask_restore(parent: QWidget, leftover: RecoveryFile) -> str:
    """'restore', 'discard' or 'keep' (ask again at the next start)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                      f"Atelier did not close cleanly last time. Restore {leftover.describe()}?", parent=parent)
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    clicked = box.clickedButton()
    return "restore" if clicked is restore else "discard" if clicked is discard else "keep"


def suggested_name(current: Path | None, title: str, suffix: str, folder: Path) -> str:
    stem = current.stem if current is not None else Path(title).stem or "Untitled"
    base = current.parent if current is not None else folder
    return str(base / f"{stem}{suffix}")
