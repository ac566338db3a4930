"""One chat message in the dock: who said it, its Markdown, its actions, and its tool-call cards."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.control_tokens import hide_control_tokens
from desktop.core.markdown_render import fenced_blocks, render_markdown
from desktop.core.tool_calls import TextSegment, ToolCall, parse_reply
from desktop.ui.text_fit import breakable, fit_to_width
from desktop.ui.theme import set_tone, tone_colour

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
STATUS_TAGS = {"streaming": "writing…", "stopped": "stopped", "error": "failed"}
# Qt's rich text understands this CSS subset; pre-wrap keeps long code lines inside the dock
MESSAGE_CSS = """
p, li { margin-top: 2px; margin-bottom: 4px; }
pre { white-space: pre-wrap; background-color: rgba(127, 127, 127, 0.16); padding: 6px; }
code { background-color: rgba(127, 127, 127, 0.16); }
blockquote { margin-left: 10px; color: #8c8c93; }
h1, h2, h3 { margin-top: 6px; margin-bottom: 4px; }
"""
DECISIONS = {"approved": "✓ Approved", "auto-approved": "✓ Approved automatically", "rejected": "✗ Rejected"}


def message_html(content: str, role: str, finished: bool) -> str:
    """Markdown as safe HTML; a finished assistant reply shows malformed tool calls as text with why.
    Control tokens of chat templates (<|im_start|> and the like) are never shown."""
    content = hide_control_tokens(content)
    if role != "assistant" or not finished:
        return render_markdown(content)
    parts = []
    for piece in parse_reply(content):
        if isinstance(piece, TextSegment) and piece.problem:
            parts.append(f"<pre>{html.escape(piece.text)}</pre>"
                         f'<p style="color:{tone_colour("warning")}">⚠ {html.escape(piece.problem)}</p>')
        elif isinstance(piece, TextSegment):
            parts.append(render_markdown(piece.text))
    return "\n".join(parts)


class MessageText(QTextBrowser):
    """Read-only rich text that is exactly as tall as its content (the scroll area scrolls, not it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message-text")
        self.setOpenExternalLinks(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.document().setDefaultStyleSheet(MESSAGE_CSS)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setFixedHeight(24)

    def _fit(self, *_args) -> None:
        height = int(self.document().size().height() + 0.999) + 2 * self.frameWidth()
        if height != self.height():
            self.setFixedHeight(max(height, 18))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.document().setTextWidth(self.viewport().width())
        self._fit()


class ToolCard(QFrame):
    """A tool call the assistant asked for: what it does, and Approve / Reject until decided."""

    decided = Signal(bool)  # True: approved

    def __init__(self, call: ToolCall, decision: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call = call
        self.setObjectName("tool-card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"<b>Tool: {call.name}</b>")
        self.text = fit_to_width(QLabel(breakable(call.describe())))  # a long prompt wraps in a narrow dock
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("approve")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("reject")
        self.state = QLabel("", wordWrap=True)  # wraps, so a narrow dock never clips the buttons
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.reject_button)
        row.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(row)
        self.approve_button.clicked.connect(lambda: self.decided.emit(True))
        self.reject_button.clicked.connect(lambda: self.decided.emit(False))
        self.show_decision(decision)

    def show_decision(self, decision: str) -> None:
        self.state.setText(DECISIONS.get(decision, "Nothing changes until you approve."))
        self.approve_button.setVisible(not decision)
        self.reject_button.setVisible(not decision)


class MessageWidget(QFrame):
    """Shows one saved message; streams text into itself; offers Copy, Use as prompt, Edit and tool cards."""

    use_as_prompt = Signal(str)
    edit_submitted = Signal(int, str)  # message id, new text
    tool_decided = Signal(int, int, object, bool)  # message id, call index, ToolCall, approved

    def __init__(self, message, decisions: dict[int, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = message
        self.content = message.content
        self.status = message.status
        self.decisions = dict(decisions or {})
        self.setObjectName(f"message-{message.role}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.role_label = QLabel(f"<b>{ROLE_NAMES.get(message.role, message.role)}</b>")
        self.status_label = QLabel("")
        self.status_label.setObjectName("message-status")
        self.copy_button = self._tool_button("Copy", "Copy this message")
        self.prompt_button = self._tool_button("Use as prompt", "Put this reply into the prompt panel")
        self.edit_button = self._tool_button("Edit", "Change this message and send it again (later turns are replaced)")
        self.prompt_button.setVisible(message.role == "assistant")
        self.edit_button.setVisible(message.role == "user")
        header = QHBoxLayout()
        header.setSpacing(2)
        header.addWidget(self.role_label)
        header.addWidget(self.status_label)
        header.addStretch(1)
        for button in (self.copy_button, self.prompt_button, self.edit_button):
            header.addWidget(button)
        self.text = MessageText()
        self.error_label = QLabel(wordWrap=True)
        self.error_label.setObjectName("message-error")
        set_tone(self.error_label, "error")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.extras = QVBoxLayout()  # prompt-block buttons and tool cards, rebuilt when the text is final
        self.editor: QPlainTextEdit | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 4, 8, 6)
        self.layout_.setSpacing(2)
        self.layout_.addLayout(header)
        self.layout_.addWidget(self.text)
        self.layout_.addWidget(self.error_label)
        self.layout_.addLayout(self.extras)
        self.copy_button.clicked.connect(self.copy)
        self.prompt_button.clicked.connect(lambda: self.use_as_prompt.emit(self.reply_text()))
        self.edit_button.clicked.connect(self.start_editing)
        self.tool_cards: list[ToolCard] = []
        self.prompt_buttons: list[QPushButton] = []
        self._render()

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(text=text, toolTip=tip, autoRaise=True)
        button.setObjectName(text.lower().replace(" ", "-"))
        return button

    @property
    def message_id(self) -> int:
        return self.message.id

    @property
    def shown(self) -> str:
        """The text as a person reads it: without chat-template control tokens."""
        return hide_control_tokens(self.content)

    @property
    def finished(self) -> bool:
        return self.status != "streaming"

    # ------------------------------------------------------------------ content
    def append_stream(self, text: str, offset: int) -> None:
        """Add streamed text; a piece already shown (the view was reloaded meanwhile) is not added twice.
        A reply shown finished (the lane ended it before the window caught up) keeps its saved text."""
        if self.finished or offset > len(self.content):
            return  # a gap cannot happen on one lane; ignore rather than show a garbled reply
        self.content = self.content[:offset] + text if offset < len(self.content) else self.content + text
        self.text.setHtml(message_html(self.content, self.message.role, finished=False))

    def update_message(self, message) -> None:
        """Show the saved state (final text, status, error)."""
        self.message, self.content, self.status = message, message.content, message.status
        self._render()

    def reply_text(self) -> str:
        """The reply without its tool calls: what "Use as prompt" puts into the prompt panel."""
        return "".join(p.text for p in parse_reply(self.shown) if isinstance(p, TextSegment)).strip()

    def _render(self) -> None:
        self.text.setHtml(message_html(self.content, self.message.role, self.finished))
        tag = STATUS_TAGS.get(self.status, "")
        self.status_label.setText(f'<span style="color:{tone_colour("warning")}">{tag}</span>' if tag else "")
        error = getattr(self.message, "error", "")
        self.error_label.setText(f"The reply failed: {error}" if self.status == "error" and error else "")
        self.error_label.setVisible(self.status == "error" and bool(error))
        self.prompt_button.setEnabled(self.finished and bool(self.shown.strip()))
        self._build_extras()

    def _build_extras(self) -> None:
        while self.extras.count():
            widget = self.extras.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.tool_cards, self.prompt_buttons = [], []
        if self.message.role != "assistant" or not self.finished:
            return
        blocks = [b for b in fenced_blocks(self.shown) if b.language == "prompt" and b.code.strip()]
        for number, block in enumerate(blocks, 1):
            # short text: a button is as wide as its label, and the dock is narrow; the code is shown above
            button = QPushButton("Use this prompt" if len(blocks) == 1 else f"Use prompt {number}")
            button.setObjectName("use-prompt-block")
            button.setToolTip(block.code)
            button.clicked.connect(lambda _=False, code=block.code.strip(): self.use_as_prompt.emit(code))
            self.extras.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            self.prompt_buttons.append(button)
        calls = [p for p in parse_reply(self.shown) if isinstance(p, ToolCall)]
        for index, call in enumerate(calls):
            card = ToolCard(call, self.decisions.get(index, ""))
            card.decided.connect(lambda approved, i=index, c=call: self._on_decided(i, c, approved))
            self.extras.addWidget(card)
            self.tool_cards.append(card)

    def _on_decided(self, index: int, call: ToolCall, approved: bool) -> None:
        self.set_decision(index, "approved" if approved else "rejected")
        self.tool_decided.emit(self.message_id, index, call, approved)

    def set_decision(self, index: int, decision: str) -> None:
        self.decisions[index] = decision
        if index < len(self.tool_cards):
            self.tool_cards[index].show_decision(decision)

    # ------------------------------------------------------------------ actions
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.shown)

    def start_editing(self) -> None:
        if self.editor is not None:
            return
        self.editor = QPlainTextEdit(self.content)
        self.editor.setObjectName("edit-message")
        self.editor.setMaximumHeight(120)
        save = QPushButton("Save && resend")
        save.setObjectName("save-resend")
        cancel = QPushButton("Cancel")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(save)
        self.edit_box = QWidget()
        box = QVBoxLayout(self.edit_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.editor)
        box.addLayout(row)
        self.layout_.insertWidget(2, self.edit_box)
        self.text.hide()
        save.clicked.connect(self._save_edit)
        cancel.clicked.connect(self.stop_editing)
        self.editor.setFocus()

    def _save_edit(self) -> None:
        text = self.editor.toPlainText().strip() if self.editor else ""
        if text:
            self.edit_submitted.emit(self.message_id, text)

    def stop_editing(self) -> None:
        if self.editor is None:
            return
        self.edit_box.deleteLater()
        self.editor = None
        self.text.show()
