"""Answering the app's real file dialogs as a person does: type the name into the (non-native) dialog, accept.

Kept for the tests that import it; the work is done by tests/ui/user_actions.py, which types into the
name field (with the keyboard focus there, as a person's typing has) once the dialog has read its folder:
a name set earlier is replaced by the dialog's own suggestion.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from tests.ui.user_actions import answer_dialog, type_file_name


def answer_next_file_dialog(path: str | Path, seen: list | None = None, timeout_ms: int = 10000) -> None:
    """When the next QFileDialog opens (the code that opens it waits in exec()), type `path` into its name
    field and accept; `seen` collects (title, non-native?) so the test can check which dialog it was."""

    def act(dialog: QFileDialog) -> None:
        if seen is not None:
            seen.append((dialog.windowTitle(), dialog.testOption(QFileDialog.Option.DontUseNativeDialog)))
        type_file_name(path)(dialog)

    answer_dialog(QFileDialog, act)
