"""The list of saved conversations: search by text, new, rename (in place), delete, export."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(QWidget):
    """Shows conversations (or search hits) and asks the chat panel to open, create, rename or delete one."""

    chosen = Signal(int)
    new_requested = Signal()
    renamed = Signal(int, str)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search chats…", clearButtonEnabled=True)
        self.search.setObjectName("chat-search")
        self.items = QListWidget()
        self.items.setObjectName("conversations")
        self.items.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed | QListWidget.EditTrigger.DoubleClicked)
        self.new_button = QToolButton(text="New", toolTip="Start a new conversation")
        self.rename_button = QToolButton(text="Rename", toolTip="Rename the selected conversation (or double-click it)")
        self.delete_button = QToolButton(text="Delete", toolTip="Delete the selected conversation")
        self.export_button = QToolButton(text="Export…", toolTip="Save the selected conversation as Markdown")
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for button in (self.new_button, self.rename_button, self.delete_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.search)
        layout.addWidget(self.items, 1)
        layout.addLayout(buttons)
        self._filling = False
        self.search.textChanged.connect(self.search_changed)
        self.items.currentItemChanged.connect(self._on_current_changed)
        self.items.itemChanged.connect(self._on_item_changed)
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button.clicked.connect(self._on_rename)
        self.delete_button.clicked.connect(lambda: self._with_current(self.delete_requested.emit))
        self.export_button.clicked.connect(lambda: self._with_current(self.export_requested.emit))

    def fill(self, rows: list[tuple[int, str, str]], current: int | None) -> None:
        """rows: (conversation id, title, tooltip such as a search snippet)."""
        self._filling = True
        try:
            self.items.clear()
            for conversation_id, title, tip in rows:
                item = QListWidgetItem(title)
                item.setData(ID_ROLE, conversation_id)
                item.setToolTip(tip or title)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.items.addItem(item)
                if conversation_id == current:
                    self.items.setCurrentItem(item)
        finally:
            self._filling = False
        has = self.items.count() > 0
        for button in (self.rename_button, self.delete_button, self.export_button):
            button.setEnabled(has)

    def current_id(self) -> int | None:
        item = self.items.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def _with_current(self, action) -> None:
        conversation_id = self.current_id()
        if conversation_id is not None:
            action(conversation_id)

    def _on_current_changed(self, item, _previous) -> None:
        if item is not None and not self._filling:
            self.chosen.emit(item.data(ID_ROLE))

    def _on_rename(self) -> None:
        item = self.items.currentItem()
        if item is not None:
            self.items.editItem(item)

    def _on_item_changed(self, item) -> None:
        if not self._filling:
            self.renamed.emit(item.data(ID_ROLE), item.text())
