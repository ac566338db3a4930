"""Every file and folder question Atelier asks: one non-native QFileDialog, paths in and out as text.

Why one place: PySide6's QFileDialog takes its folder as a str, and a pathlib.Path raised a
TypeError on every File > Open (the menu did nothing). Here any path-like is turned into text first.
Non-native dialogs look the same on every desktop, follow the app's theme, and can be filled in by
a test exactly as a person fills them in. Nothing else in desktop/ may make a QFileDialog or call its
static functions (tests/ui/test_file_dialogs.py checks).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFileDialog, QWidget

PathLike = str | os.PathLike | None
DIALOG_SIZE = QSize(820, 500)


def make_dialog(parent: QWidget | None, title: str, where: PathLike, filters: str) -> QFileDialog:
    dialog = QFileDialog(parent, title, os.fspath(where) if where else "", filters)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setObjectName("file-dialog")
    dialog.resize(DIALOG_SIZE)  # Qt's default is too narrow to read sizes and dates
    return dialog


def _run(dialog: QFileDialog) -> list[str]:
    try:
        return dialog.selectedFiles() if dialog.exec() == QFileDialog.DialogCode.Accepted else []
    finally:
        dialog.deleteLater()


def open_file(parent: QWidget | None, title: str, folder: PathLike = "", filters: str = "") -> str | None:
    """One existing file, or None when the user cancels."""
    dialog = make_dialog(parent, title, folder, filters)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    chosen = _run(dialog)
    return chosen[0] if chosen else None


def open_files(parent: QWidget | None, title: str, folder: PathLike = "", filters: str = "") -> list[str]:
    """Existing files (several may be chosen); empty when the user cancels."""
    dialog = make_dialog(parent, title, folder, filters)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    return _run(dialog)


def save_file(parent: QWidget | None, title: str, suggestion: PathLike = "", filters: str = "") -> str | None:
    """Where to write: `suggestion` may be a folder or a full file name; asks before overwriting."""
    dialog = make_dialog(parent, title, suggestion, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    chosen = _run(dialog)
    return chosen[0] if chosen else None


def folder_dialog(parent: QWidget | None, title: str, folder: PathLike = "") -> QFileDialog:
    """A folder chooser, not yet shown: for callers that open() it and listen to fileSelected."""
    dialog = make_dialog(parent, title, folder, "")
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    return dialog


def choose_folder(parent: QWidget | None, title: str, folder: PathLike = "") -> str | None:
    """An existing folder, or None when the user cancels."""
    chosen = _run(folder_dialog(parent, title, folder))
    return chosen[0] if chosen else None
