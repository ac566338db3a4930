"""A word-wrapped label for short notes that takes no room while it has nothing to say."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class NoteLabel(QLabel):
    """Hidden while empty, shown with its text: an empty note must not cost a line of a small panel."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setVisible(bool(text))
