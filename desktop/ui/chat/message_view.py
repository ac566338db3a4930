"""The scrolling list of a conversation's messages; follows the newest text while the user is at the bottom."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.theme import set_tone

EMPTY_TEXT = ("Ask for ideas, a prompt, or changes to your image. Replies can call tools that fill the prompt "
              "panel (you approve each one). Type <b>/imagine</b> and a prompt to make an image.")


class MessageView(QScrollArea):
    """Holds one MessageWidget per message, in order; sticks to the bottom unless the user scrolled up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat-messages")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.container = QWidget()
        self.container.setObjectName("chat-messages-container")
        self.rows = QVBoxLayout(self.container)
        self.rows.setContentsMargins(4, 4, 4, 4)
        self.rows.setSpacing(6)
        self.empty = QLabel(EMPTY_TEXT, wordWrap=True)
        self.empty.setObjectName("chat-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_tone(self.empty, "muted", "padding: 24px;")
        self.rows.addWidget(self.empty)
        self.rows.addStretch(1)
        self.setWidget(self.container)
        self.widgets: list[MessageWidget] = []
        self._stick = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    def clear(self) -> None:
        for widget in self.widgets:
            self.rows.removeWidget(widget)
            widget.hide()  # deleteLater waits for the event loop; a visible leftover would overlap the new rows
            widget.deleteLater()
        self.widgets = []
        self.empty.show()
        self._stick = True

    def add(self, widget: MessageWidget) -> MessageWidget:
        self.empty.hide()
        self.rows.insertWidget(self.rows.count() - 1, widget)  # before the stretch
        self.widgets.append(widget)
        return widget

    def widget_for(self, message_id: int) -> MessageWidget | None:
        return next((w for w in self.widgets if w.message_id == message_id), None)

    def scroll_to_bottom(self) -> None:
        self._stick = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - 24

    def _on_range_changed(self, _low: int, high: int) -> None:
        if self._stick:  # new text arrived while the user was reading the end: keep following it
            self.verticalScrollBar().setValue(high)
