"""Enhance: the chat model rewrites the image prompt for the selected model's family; the user sees a diff.

The prompt model's seed seeds the rewrite too, so the same seed gives the same rewrite. On Accept the
prompt model keeps the first original as `original_prompt`, so the saved
image records both the prompt it was made with and the one the user wrote. It is dropped once the
prompt no longer shares most of its words with the accepted rewrite (the user wrote a new one).
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QTextBrowser, QVBoxLayout, QWidget

from desktop.core.messages import Cancelled, Done, EnhanceJob, EnhanceResult, Failed
from desktop.core.models import SDXL
from desktop.core.prompt_enhance import diff_html, is_tag_style, word_diff


def still_derived(text: str, rewrite: str) -> bool:
    """True while at least half of the prompt's words come from the rewrite (small edits keep the record)."""
    words = re.findall(r"\w+", text.lower())
    known = set(re.findall(r"\w+", rewrite.lower()))
    return bool(words) and sum(word in known for word in words) * 2 >= len(words)


class EnhanceDialog(QDialog):
    """Shows the rewrite as a word diff (removed struck out, added in green); Accept or Reject."""

    def __init__(self, result: EnhanceResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = result
        self.setWindowTitle("Enhanced prompt")
        self.setObjectName("enhance-dialog")
        self.resize(520, 360)
        style = "comma-separated tags" if is_tag_style(result.family) else "natural sentences"
        self.summary = QLabel(f"Rewritten for {result.family or 'this model'} as {style} (seed {result.seed}). "
                              "Removed words are struck out, added ones green. You can edit it before accepting.",
                              wordWrap=True)
        self.diff = QTextBrowser()
        self.diff.setObjectName("enhance-diff")
        self.diff.setHtml(diff_html(word_diff(result.original, result.enhanced)))
        self.enhanced = QPlainTextEdit(result.enhanced)
        self.enhanced.setObjectName("enhanced-prompt")
        self.enhanced.setMaximumHeight(90)
        self.buttons = QDialogButtonBox()
        self.accept_button = self.buttons.addButton("Accept", QDialogButtonBox.ButtonRole.AcceptRole)
        self.reject_button = self.buttons.addButton("Reject", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.diff, 1)
        layout.addWidget(QLabel("Enhanced prompt"))
        layout.addWidget(self.enhanced)
        layout.addWidget(self.buttons)

    def chosen_prompt(self) -> str:
        return self.enhanced.toPlainText().strip()


class PromptEnhancer(QObject):
    """Runs the prompt panel's Enhance button: submits an EnhanceJob, shows the diff, applies on Accept."""

    dialog_shown = Signal(object)  # EnhanceDialog

    def __init__(self, prompt, prompt_panel, client, chat_model: Callable[[], object],
                 parent: QObject | None = None) -> None:
        super().__init__(parent or prompt_panel)
        self.prompt, self.panel, self.client, self.chat_model = prompt, prompt_panel, client, chat_model
        self.handle = None  # the JobHandle of the rewrite running, if any
        self.dialog: EnhanceDialog | None = None
        self.accepted: tuple[str, str] | None = None  # (original, rewrite) of the last accepted Enhance
        prompt_panel.enhance_requested.connect(self.enhance)
        prompt.changed.connect(self._on_prompt_changed)

    @property
    def job_id(self) -> int | None:
        return self.handle.job_id if self.handle is not None else None

    @Slot()
    def enhance(self):
        """Start a rewrite, or stop the one running; returns the JobHandle when one was started."""
        if self.handle is not None:
            self.handle.cancel()
            return None
        prompt = self.prompt.prompt.strip()
        if not prompt:
            self.panel.show_notice("There is no prompt to enhance: type a few words first.")
            return None
        chat = self.chat_model()
        if chat is None:
            self.panel.show_notice("Enhance needs a chat model: choose one in the Chat panel (View ▸ Chat).")
            return None
        image = self.prompt.selected_model
        seed = self.prompt.seed if "seed" not in self.prompt.errors else 0
        job = EnhanceJob(prompt, image.family if image is not None else SDXL, chat.path, seed)
        self.panel.set_enhancing(True)
        self.panel.show_notice("Enhancing the prompt…")
        self.handle = self.client.submit(job)
        self.handle.message.connect(self._on_message)
        return self.handle

    @Slot(object)
    def _on_message(self, message) -> None:
        if self.handle is None or getattr(message, "job_id", None) != self.handle.job_id:
            return
        if isinstance(message, EnhanceResult):
            self.show_result(message)
        elif isinstance(message, (Done, Cancelled, Failed)):
            self.handle = None
            self.panel.set_enhancing(False)
            if isinstance(message, Failed):
                self.panel.show_notice(f"Enhance failed: {message.message}")
            elif isinstance(message, Cancelled):
                self.panel.show_notice("Enhance stopped.")

    def show_result(self, result: EnhanceResult) -> EnhanceDialog:
        self.panel.show_notice("")
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = EnhanceDialog(result, self.panel.window())
        self.dialog.accepted.connect(lambda dialog=self.dialog: self.accept(dialog))
        self.dialog.rejected.connect(lambda: self.panel.show_notice("Kept your prompt."))
        self.dialog.open()  # window-modal but not blocking: the app keeps running
        self.dialog_shown.emit(self.dialog)
        return self.dialog

    def accept(self, dialog: EnhanceDialog) -> None:
        enhanced = dialog.chosen_prompt()
        if not enhanced:
            self.panel.show_notice("The enhanced prompt was empty: kept your prompt.")
            return
        original = self.prompt.original_prompt or dialog.result.original  # enhancing twice keeps the first
        self.accepted = (original, enhanced)
        self.prompt.update(prompt=enhanced, original_prompt=original)
        self.panel.show_notice("Enhanced prompt accepted; the original is kept in the image's metadata.")

    def _on_prompt_changed(self, name: str, text) -> None:
        if name != "prompt" or self.accepted is None or self.prompt.original_prompt != self.accepted[0]:
            return  # not our rewrite (none yet, or restored from an image's settings)
        if not still_derived(text, self.accepted[1]):
            self.prompt.original_prompt = ""
            self.accepted = None
