"""Answering the app's real file dialogs as a person does: type the name into the (non-native) dialog, accept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit


def answer_next_file_dialog(path: str | Path, seen: list | None = None, timeout_ms: int = 10000) -> None:
    """When the next QFileDialog opens (its static functions run a nested event loop), type `path` into its
    name field and accept; `seen` collects the dialog so the test can check which one it was."""
    waited = [0]

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            waited[0] += 20
            if waited[0] < timeout_ms:
                QTimer.singleShot(20, fill)
            return
        if seen is not None:
            seen.append((dialog.windowTitle(), dialog.testOption(QFileDialog.Option.DontUseNativeDialog)))
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        dialog.setDirectory(str(Path(path).parent))
        name.setText(Path(path).name)
        dialog.accept()

    QTimer.singleShot(0, fill)
