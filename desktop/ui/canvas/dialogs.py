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

from desktop.core.image_io import FILE_PATTERNS
from desktop.core.params import MAX_SIDE, MIN_SIDE, SIZE_STEP, ParamError, check_size, nearest_valid_side
from desktop.core.recovery import RecoveryFile
from desktop.ui import file_dialog
from desktop.ui.note_label import NoteLabel

OPEN_FILTER = (f"Images and projects ({' '.join(FILE_PATTERNS)} *.ora);;OpenRaster projects (*.ora);;"
               f"Images ({' '.join(FILE_PATTERNS)});;All files (*)")
PROJECT_FILTER = "OpenRaster project (*.ora)"
EXPORT_FILTER = "PNG image (*.png);;JPEG image (*.jpg *.jpeg);;WebP image (*.webp)"
BACKGROUNDS = {"White": (255, 255, 255, 255), "Black": (0, 0, 0, 255), "Transparent": (0, 0, 0, 0)}


class NewCanvasDialog(QDialog):
    """Asks for the size and background of a blank canvas; sizes follow the one rule generation uses."""

    def __init__(self, width: int, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New canvas")
        self.setObjectName("new-canvas")
        # any whole number may be typed: OK snaps it by the rule and says so, instead of Qt silently clamping
        self.width_box = QSpinBox(minimum=1, maximum=99_999, singleStep=SIZE_STEP, value=nearest_valid_side(width),
                                  suffix=" px")
        self.height_box = QSpinBox(minimum=1, maximum=99_999, singleStep=SIZE_STEP, value=nearest_valid_side(height),
                                   suffix=" px")
        self.width_box.setObjectName("new-width")
        self.height_box.setObjectName("new-height")
        self.background = QComboBox()
        self.background.addItems(list(BACKGROUNDS))
        self.notice = NoteLabel()
        self.notice.setObjectName("new-canvas-notice")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Background", self.background)
        form.addRow(self.notice)
        form.addRow(buttons)

    def accept(self) -> None:
        """OK: a size off the rule is snapped and shown (a second OK creates it); a too-large one is refused."""
        notes = []
        for name, box in (("Width", self.width_box), ("Height", self.height_box)):
            box.interpretText()
            value, snapped = box.value(), nearest_valid_side(box.value())
            if snapped != value:
                box.setValue(snapped)
                notes.append(f"{name} {value} px is not a multiple of {SIZE_STEP} from {MIN_SIDE} to {MAX_SIDE}: "
                             f"snapped to {snapped} px.")
        if notes:
            self.notice.setText(" ".join(notes) + " Press OK to make the canvas at this size.")
            return
        try:
            check_size(self.width_box.value(), self.height_box.value())
        except ParamError as error:
            self.notice.setText(str(error))
            return
        super().accept()

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
