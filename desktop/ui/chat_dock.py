"""The chat dock: pick a local chat model, keep conversations, and read replies as they stream in.

History lives in the ChatStore (SQLite) that the lane writes replies into as they stream (the one place a
reply is saved: engine/chat_reply.py); this panel shows it, submits ChatJobs to the engine client, and
turns the Token messages of each job's handle into text on screen.
What a reply asks of the canvas (Use as prompt, approved tool calls, /imagine) leaves through
signals; AssistantActions carries it out on the prompt panel.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat_store import DEFAULT_TITLE, ChatStoreError, suggest_title
from desktop.core.messages import Cancelled, ChatEnded, ChatJob, ChatStarted, Done, Failed, Loading, Started, Token
from desktop.core.models import ModelEntry
from desktop.core.tool_calls import ToolCall, tool_calls
from desktop.ui import file_dialog
from desktop.ui.chat.conversation_list import ConversationList
from desktop.ui.chat.conversation_settings import ConversationSettings
from desktop.ui.chat.message_view import MessageView
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.text_fit import ElidedLabel, breakable, fit_to_width
from desktop.ui.theme import set_tone

IMAGINE = "/imagine"
PANEL_WIDTH = 330  # what the dock asks for; the window may give it more or less
CHATS_LIST_HEIGHT = 170  # px for the opened Chats list: search, four conversations, its buttons


class ChatInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line."""

    submitted = Signal()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatPanel(QWidget):
    """The chat dock's contents; owns the open conversation and the one chat job it may have running."""

    use_as_prompt = Signal(str)
    tool_approved = Signal(object)  # ToolCall
    imagine_requested = Signal(str)
    model_changed = Signal(object)  # ModelEntry | None

    def __init__(self, store, client, settings=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat-panel")
        self.store, self.client, self.settings = store, client, settings
        self.conversation_id: int | None = None
        self.handle = None  # the JobHandle of the chat job queued or running, if any
        self.job_conversation: int | None = None
        self.decisions: dict[int, dict[int, str]] = {}  # message id -> call index -> decision (this session)
        self._build()
        self.conversations.chosen.connect(self.open_conversation)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.renamed.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.conversations.export_requested.connect(self.export_dialog)
        self.conversations.search_changed.connect(lambda _text: self.refresh_list())
        self.conversation_settings.changed.connect(self._on_settings_changed)
        self.conversation_settings.auto_approve.toggled.connect(self._on_auto_approve)
        self.model.currentIndexChanged.connect(self._on_model_chosen)
        self.input.submitted.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button.clicked.connect(self.regenerate)
        if settings is not None:
            self.conversation_settings.auto_approve.setChecked(settings.auto_approve_tools)
        self.store_notice.setText(breakable(store.notice))
        self.store_notice.setVisible(bool(store.notice))
        recent = store.list_conversations()
        self.refresh_list()
        if recent:
            self.open_conversation(recent[0].id)
        self._set_busy(False)

    def _build(self) -> None:
        self.model = QComboBox()
        self.model.setObjectName("chat-model")
        # a long model name is elided in the box, never a reason for the dock to grow
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)
        self.model_hint = QLabel(wordWrap=True)
        self.model_hint.setObjectName("chat-model-hint")
        self.store_notice = QLabel(wordWrap=True)
        self.store_notice.setObjectName("chat-store-notice")
        set_tone(self.store_notice, "warning")
        self.conversations = ConversationList()
        self.conversations.new_button.hide()  # the header's New button does it
        self.conversations.hide()  # the dock is narrow and often short: the list opens on demand
        self.chats_toggle = QToolButton(text="Chats", checkable=True, autoRaise=True,
                                        toolTip="Show saved conversations: search, rename, delete, export")
        self.chats_toggle.setObjectName("chats-toggle")
        self.chats_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.chats_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.chats_toggle.toggled.connect(self._on_chats_toggled)
        self.title = ElidedLabel("")  # the open conversation's title, cut to the room there is
        self.title.setObjectName("chat-title")
        self.new_button = QToolButton(text="New", toolTip="Start a new conversation")
        self.new_button.setObjectName("chat-new")
        self.new_button.clicked.connect(self.new_conversation)
        self.conversation_settings = ConversationSettings()
        self.settings_toggle = QToolButton(text="Settings", checkable=True, autoRaise=True,
                                           toolTip="This conversation's persona (system prompt) and sampling")
        self.settings_toggle.setObjectName("chat-settings-toggle")
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.settings_toggle.toggled.connect(self._on_settings_toggled)
        self.conversation_settings.hide()
        self.view = MessageView()
        self.notice = QLabel(wordWrap=True)
        self.notice.setObjectName("chat-notice")
        set_tone(self.notice, "warning")
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.input = ChatInput(placeholderText=f"Message the assistant (Enter sends, Shift+Enter: new line; "
                                               f"{IMAGINE} <prompt> makes an image)")
        self.input.setObjectName("chat-input")
        self.input.setMaximumHeight(60)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("chat-send")
        self.stop_button = QPushButton("Stop", toolTip="Stop the reply; what was written is kept")
        self.stop_button.setObjectName("chat-stop")
        self.regenerate_button = QPushButton("Regenerate", toolTip="Write the last reply again")
        self.regenerate_button.setObjectName("chat-regenerate")
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model, 1)
        chats_row = QHBoxLayout()
        chats_row.addWidget(self.chats_toggle)
        chats_row.addWidget(self.title, 1)
        chats_row.addWidget(self.settings_toggle)
        chats_row.addWidget(self.new_button)
        chat = QWidget()
        chat_layout = QVBoxLayout(chat)
        chat_layout.setContentsMargins(0, 0, 0, 0)
        chat_layout.setSpacing(4)
        chat_layout.addWidget(self.conversation_settings)
        chat_layout.addWidget(self.view, 1)
        chat_layout.addWidget(self.notice)
        chat_layout.addWidget(self.input)
        buttons = QHBoxLayout()
        buttons.addWidget(self.regenerate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        chat_layout.addLayout(buttons)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(chat)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([90, 600])
        self.splitter.setChildrenCollapsible(False)  # the list's buttons never squeeze to nothing
        for label in (self.model_hint, self.store_notice, self.notice):
            fit_to_width(label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(model_row)
        layout.addWidget(self.model_hint)
        layout.addWidget(self.store_notice)
        layout.addLayout(chats_row)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ models
    def set_models(self, entries: list[ModelEntry], models_dir: str = "", select: str = "") -> None:
        """Fill the picker with chat models; with none, say where to put one."""
        current = self.selected_model()
        select = select or (current.name if current else "") or (self.settings.last_chat_model if self.settings else "")
        chats = [e for e in entries if e.kind == "chat model"]
        usable = [e for e in chats if e.usable]
        self.model.blockSignals(True)
        self.model.clear()
        for entry in usable:
            self.model.addItem(f"{entry.name}  ·  {entry.source}", entry)
        index = next((i for i, e in enumerate(usable) if select and select in (e.name, e.path)), 0)
        self.model.setCurrentIndex(index if usable else -1)
        self.model.blockSignals(False)
        hint = "" if usable else ("No chat model yet: put a transformers chat model folder (config.json, tokenizer, "
                                  f".safetensors) in {models_dir or 'the models folder'}, or download one.")
        hint += "".join(f"\n⚠ {e.problem}" for e in chats if not e.usable)[:600]
        self.model_hint.setText(breakable(hint.strip()))
        self.model_hint.setVisible(bool(hint.strip()))
        self.model.setEnabled(bool(usable))
        self._on_model_chosen()

    def selected_model(self) -> ModelEntry | None:
        return self.model.currentData()

    def _on_model_chosen(self, _index: int = 0) -> None:
        entry = self.selected_model()
        if entry is not None and self.settings is not None:
            self.settings.last_chat_model = entry.name
        self.model_changed.emit(entry)
        self._set_busy(self.busy)

    # ------------------------------------------------------------------ conversations
    def refresh_list(self) -> None:
        text = self.conversations.search.text().strip()
        if text:
            rows = [(h.conversation.id, h.conversation.title, h.snippet) for h in self.store.search(text)]
        else:
            rows = [(c.id, c.title, "") for c in self.store.list_conversations()]
        self.conversations.fill(rows, self.conversation_id)
        count = len(self.store.list_conversations()) if text else len(rows)
        self.chats_toggle.setText(f"Chats ({count})")
        title = self.store.conversation(self.conversation_id).title if self.conversation_id is not None else ""
        self.title.setText(title)

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        self.conversation_settings.flush()
        try:
            conversation = self.store.conversation(conversation_id)
        except ChatStoreError as error:
            self.show_notice(str(error))
            return
        self.conversation_id = conversation.id
        self.conversation_settings.show_values(conversation.system_prompt, conversation.temperature,
                                               conversation.top_p, conversation.max_new_tokens)
        index = next((i for i in range(self.model.count()) if self.model.itemData(i).name == conversation.model), -1)
        if index >= 0 and not self.busy:
            self.model.setCurrentIndex(index)
        self.show_notice("")
        self.reload_messages()
        self.refresh_list()

    def reload_messages(self) -> None:
        self.view.clear()
        if self.conversation_id is None:
            return
        for message in self.store.messages(self.conversation_id):
            self._add_widget(message)
        self.view.scroll_to_bottom()
        self._set_busy(self.busy)

    def _add_widget(self, message) -> MessageWidget:
        widget = MessageWidget(message, self.decisions.get(message.id))
        widget.use_as_prompt.connect(self.use_as_prompt)
        widget.edit_submitted.connect(self.resend_edited)
        widget.tool_decided.connect(self._on_tool_decided)
        return self.view.add(widget)

    @Slot()
    def new_conversation(self) -> int:
        self.conversation_settings.flush()
        entry = self.selected_model()
        values = self.conversation_settings.values()
        conversation = self.store.create_conversation(DEFAULT_TITLE, model=entry.name if entry else "", **values)
        self.open_conversation(conversation.id)
        return conversation.id

    @Slot(int, str)
    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self.store.rename_conversation(conversation_id, title)
        self.refresh_list()

    @Slot(int)
    def delete_conversation(self, conversation_id: int, confirm: bool = True) -> None:
        title = self.store.conversation(conversation_id).title
        if confirm and QMessageBox.question(self, "Delete conversation", f"Delete “{title}” and all its messages?") \
                != QMessageBox.StandardButton.Yes:
            return
        if self.job_conversation == conversation_id and self.handle is not None:
            self.handle.cancel()
            self.job_conversation = None  # its reply has nowhere to go now: its end is not reported
        self.store.delete_conversation(conversation_id)
        if self.conversation_id == conversation_id:
            self.conversation_id = None
            self.view.clear()
            remaining = self.store.list_conversations()
            if remaining:
                self.open_conversation(remaining[0].id)
        self.refresh_list()

    @Slot(int)
    def export_dialog(self, conversation_id: int) -> None:
        title = self.store.conversation(conversation_id).title
        path = file_dialog.save_file(self, "Export conversation", f"{title}.md", "Markdown (*.md)")
        if path:
            self.export_markdown(path, conversation_id)

    def export_markdown(self, path: str, conversation_id: int | None = None) -> None:
        try:
            self.store.save_markdown(conversation_id or self.conversation_id, path)
            self.show_notice(f"Saved the conversation to {path}")
        except OSError as error:
            self.show_notice(f"Could not save {path}: {error.strerror or error}")

    def _on_settings_changed(self, change: dict) -> None:
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(self.conversation_id, **change)
            except ChatStoreError as error:
                self.show_notice(str(error))

    def _on_chats_toggled(self, shown: bool) -> None:
        self.conversations.setVisible(shown)
        self.chats_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if shown:
            # room for the search, a few conversations and the Rename/Delete/Export row
            wanted = max(CHATS_LIST_HEIGHT, self.conversations.minimumSizeHint().height())
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([wanted, max(total - wanted, 0)])
            self.conversations.search.setFocus()

    def _on_settings_toggled(self, shown: bool) -> None:
        self.conversation_settings.setVisible(shown)
        self.settings_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _on_auto_approve(self, checked: bool) -> None:
        if self.settings is not None:
            self.settings.auto_approve_tools = checked

    # ------------------------------------------------------------------ sending
    @property
    def busy(self) -> bool:
        return self.handle is not None

    @property
    def job_id(self) -> int | None:
        return self.handle.job_id if self.handle is not None else None

    def show_notice(self, text: str) -> None:
        self.notice.setText(breakable(text))
        self.notice.setVisible(bool(text))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        # The dock keeps the width the window gave it: what streams in (long words, notices, paths)
        # wraps inside it instead of asking for more room.
        return QSize(PANEL_WIDTH, super().sizeHint().height())

    @Slot()
    def send(self, text: str | None = None) -> int | None:
        """Send what is typed (or `text`); returns the chat job id, None when nothing was sent."""
        text = (self.input.toPlainText() if text is None else text).strip()
        if not text:
            return None  # empty messages are ignored
        if text == IMAGINE or text.startswith(IMAGINE + " "):
            prompt = text[len(IMAGINE):].strip()
            if not prompt:
                self.show_notice(f"Say what to make: {IMAGINE} a lighthouse at dusk, oil painting")
                return None
            self.input.clear()
            self.imagine_requested.emit(prompt)
            return None
        if self.busy:
            self.show_notice("A reply is being written: wait for it or press Stop.")
            return None
        entry = self.selected_model()
        if entry is None:
            self.show_notice("Choose a chat model first (see the note at the top).")
            return None
        self.conversation_settings.flush()
        if self.conversation_id is None:
            self.new_conversation()
        conversation = self.store.conversation(self.conversation_id)
        if conversation.title == DEFAULT_TITLE and not self.store.messages(conversation.id):
            self.store.rename_conversation(conversation.id, suggest_title(text))
        if conversation.model != entry.name:
            self.store.update_conversation(conversation.id, model=entry.name)
        message = self.store.add_message(conversation.id, "user", text)
        self.input.clear()
        self._add_widget(message)
        self.view.scroll_to_bottom()
        self.refresh_list()
        return self._submit()

    def _submit(self) -> int:
        entry = self.selected_model()
        use_tools = self.conversation_settings.use_tools.isChecked()
        job = ChatJob(self.conversation_id, entry.path, use_tools=use_tools)
        self.show_notice("")
        ahead = self.client.running_job is not None or self.client.pending > 0
        self.handle = self.client.submit(job)
        self.handle.message.connect(self._on_message)
        self.job_conversation = self.conversation_id
        self._set_busy(True)
        if ahead:
            self.show_notice("Waiting for the model lane (an image or another job is running)…")
        return job.job_id

    @Slot()
    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    @Slot()
    def regenerate(self) -> int | None:
        """Write the last reply again: everything after the last message of yours is replaced."""
        if self.busy or self.conversation_id is None or self.selected_model() is None:
            return None
        last_user = self.store.last_message(self.conversation_id, "user")
        if last_user is None:
            self.show_notice("Nothing to regenerate: send a message first.")
            return None
        self._truncate_after(last_user.id)
        self.reload_messages()
        return self._submit()

    @Slot(int, str)
    def resend_edited(self, message_id: int, text: str) -> int | None:
        """Edit one of your messages and send it again: the turns after it are replaced."""
        if self.busy:
            self.show_notice("A reply is being written: wait for it or press Stop before editing.")
            return None
        if self.selected_model() is None:
            self.show_notice("Choose a chat model first (see the note at the top).")
            return None
        self.store.edit_message(message_id, text.strip())
        self._truncate_after(message_id)
        self.reload_messages()
        return self._submit()

    def _truncate_after(self, message_id: int) -> None:
        position = self.store.message(message_id).position
        for message in self.store.messages(self.conversation_id):
            if message.position > position:  # SQLite reuses ids: a new reply must not inherit old decisions
                self.decisions.pop(message.id, None)
        self.store.truncate_after(message_id)

    def _set_busy(self, busy: bool) -> None:
        has_model = self.selected_model() is not None
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        has_user = self.conversation_id is not None and any(w.message.role == "user" for w in self.view.widgets)
        self.regenerate_button.setEnabled(not busy and has_model and has_user)

    # ------------------------------------------------------------------ tools
    def _on_tool_decided(self, message_id: int, index: int, call: ToolCall, approved: bool) -> None:
        self.decisions.setdefault(message_id, {})[index] = "approved" if approved else "rejected"
        if approved:
            self.tool_approved.emit(call)

    def _auto_approve(self, widget: MessageWidget) -> None:
        if not self.conversation_settings.auto_approve.isChecked():
            return
        for index, call in enumerate(tool_calls(widget.shown)):
            if widget.decisions.get(index):
                continue
            self.decisions.setdefault(widget.message_id, {})[index] = "auto-approved"
            widget.set_decision(index, "auto-approved")
            self.tool_approved.emit(call)

    # ------------------------------------------------------------------ what the chat job's handle reports
    @Slot(object)
    def _on_message(self, message) -> None:
        if self.handle is None or getattr(message, "job_id", None) != self.handle.job_id:
            return  # a handle of an earlier job (nothing comes after its end, but be sure)
        shown = self.job_conversation is not None and self.job_conversation == self.conversation_id
        if isinstance(message, Started):
            self.show_notice("")
        elif isinstance(message, Loading):
            self.show_notice(message.text)
        elif isinstance(message, ChatStarted):
            self.show_notice(" ".join(t for t in (message.notice, message.warning) if t))
            if shown:
                self._add_widget(self.store.message(message.message_id))
        elif isinstance(message, Token):
            widget = self.view.widget_for(message.message_id) if shown else None
            if widget is not None:
                widget.append_stream(message.text, message.offset)
        elif isinstance(message, ChatEnded):
            widget = self.view.widget_for(message.message_id) if shown else None
            if widget is not None:
                widget.update_message(self.store.message(message.message_id))
                if message.status == "complete":
                    self._auto_approve(widget)
        elif isinstance(message, (Done, Cancelled, Failed)):
            if isinstance(message, Failed) and self.job_conversation is not None:
                self.show_notice(f"The reply failed: {message.message}")
            self.handle = self.job_conversation = None
            self._set_busy(False)
            self.refresh_list()
