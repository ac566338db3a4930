"""The history panel: every edit of the open document, oldest first; a click goes back or forward to it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.core.document import Document


class HistoryPanel(QWidget):
    """Lists the document's undo history; the current step is bold, undone steps are grey."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history-panel")
        self.document: Document | None = None
        self.list = QListWidget()
        self.list.setObjectName("history")
        self.list.setToolTip("Click a step to go back (or forward) to it")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        self.list.itemClicked.connect(self._on_clicked)
        self.rebuild()

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.history.changed.disconnect(self.rebuild)
        self.document = document
        if document is not None:
            document.history.changed.connect(self.rebuild)
        self.rebuild()

    def go_to(self, index: int) -> None:
        """Undo or redo until `index` edits are done (0: as opened)."""
        if self.document is not None:
            self.document.history.go_to(index)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.go_to(self.list.row(item))

    def rebuild(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        if self.document is not None:
            history = self.document.history
            start = self.document.title if self.document.path else "New canvas"
            for row, label in enumerate([f"Start: {start}"] + history.labels):
                item = QListWidgetItem(label)
                if row == history.index:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                elif row > history.index:
                    item.setForeground(QColor("#8a8a90"))
                self.list.addItem(item)
            self.list.setCurrentRow(history.index)
            self.list.scrollToItem(self.list.item(history.index))
        self.list.blockSignals(False)
