"""A conversation's persona (system prompt) and sampling settings, saved with it as they change."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from desktop.core.chat_store import DEFAULT_SAMPLING

SAVE_DELAY_MS = 400  # the system prompt is saved this long after the last keystroke (and before sending)


class ConversationSettings(QWidget):
    """Edits system prompt, temperature, top-p and max new tokens; `changed` carries what changed."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.system_prompt = QPlainTextEdit(placeholderText="Persona: how the assistant should behave (optional)")
        self.system_prompt.setObjectName("system-prompt")
        self.system_prompt.setMaximumHeight(64)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, decimals=2)
        self.temperature.setToolTip("0 always picks the likeliest word; higher is more varied")
        self.top_p = QDoubleSpinBox(minimum=0.01, maximum=1.0, singleStep=0.05, decimals=2)
        self.top_p.setToolTip("Sample only from the likeliest words that together make up this share")
        self.max_new_tokens = QSpinBox(minimum=1, maximum=32768, singleStep=64)
        self.max_new_tokens.setToolTip("The longest reply, in tokens")
        self.use_tools = QCheckBox("Let the assistant use canvas tools", checked=True)
        self.use_tools.setToolTip("List set_prompt, set_size, set_seed, generate_image… to the model")
        self.auto_approve = QCheckBox("Approve tool calls automatically")
        self.auto_approve.setToolTip("Apply the assistant's tool calls without asking")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("System prompt", self.system_prompt)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Max new tokens", self.max_new_tokens)
        form.addRow(self.use_tools)
        form.addRow(self.auto_approve)
        self._loading = False
        self._prompt_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._prompt_timer.timeout.connect(self._save_prompt)
        self.system_prompt.textChanged.connect(self._on_prompt_edited)
        self.temperature.valueChanged.connect(lambda v: self._emit(temperature=round(v, 2)))
        self.top_p.valueChanged.connect(lambda v: self._emit(top_p=round(v, 2)))
        self.max_new_tokens.valueChanged.connect(lambda v: self._emit(max_new_tokens=int(v)))
        self.show_values("", **DEFAULT_SAMPLING)

    def show_values(self, system_prompt: str, temperature: float, top_p: float, max_new_tokens: int) -> None:
        """Show a conversation's settings without reporting them as changes."""
        self._prompt_timer.stop()
        self._loading = True
        try:
            self.system_prompt.setPlainText(system_prompt)
            self.temperature.setValue(temperature)
            self.top_p.setValue(top_p)
            self.max_new_tokens.setValue(max_new_tokens)
        finally:
            self._loading = False

    def values(self) -> dict:
        return {"system_prompt": self.system_prompt.toPlainText(), "temperature": round(self.temperature.value(), 2),
                "top_p": round(self.top_p.value(), 2), "max_new_tokens": self.max_new_tokens.value()}

    def flush(self) -> None:
        """Report a system prompt still waiting for its save delay (call before sending)."""
        if self._prompt_timer.isActive():
            self._prompt_timer.stop()
            self._save_prompt()

    def _save_prompt(self) -> None:
        self._emit(system_prompt=self.system_prompt.toPlainText())

    def _on_prompt_edited(self) -> None:
        if not self._loading:
            self._prompt_timer.start()

    def _emit(self, **change) -> None:
        if not self._loading:
            self.changed.emit(change)
