"""What the chat may do to the canvas side, carried out on the prompt panel once the user allowed it.

"Use as prompt" fills the prompt; an approved tool call changes one setting (or queues an image);
`/imagine` queues an image with the current settings. Images are queued through the panel's own
generate_requested signal, so they take exactly the path the Generate button takes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from desktop.core.params import ParamError, random_seed
from desktop.core.tool_calls import ToolCall


class AssistantActions(QObject):
    """Applies chat requests (prompt text, tool calls, /imagine) to the prompt panel and reports back."""

    def __init__(self, chat_panel, prompt_panel, parent: QObject | None = None) -> None:
        super().__init__(parent or chat_panel)
        self.chat, self.panel = chat_panel, prompt_panel
        chat_panel.use_as_prompt.connect(self.use_as_prompt)
        chat_panel.tool_approved.connect(self.apply_tool)
        chat_panel.imagine_requested.connect(self.imagine)

    @Slot(str)
    def use_as_prompt(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.chat.show_notice("This reply has no text to use as a prompt.")
            return
        self._set_prompt(text)
        self.chat.show_notice("The prompt panel now holds this prompt.")

    def _set_prompt(self, text: str) -> None:
        self.panel.prompt.setPlainText(text)
        self.panel.original_prompt = ""  # a new prompt, not a rewrite of the one before

    @Slot(object)
    def apply_tool(self, call: ToolCall) -> None:
        args = call.arguments
        if call.name == "set_prompt":
            self._set_prompt(args["prompt"])
        elif call.name == "set_negative_prompt":
            self.panel.negative.setPlainText(args["prompt"])
        elif call.name == "set_size":
            self.panel.width_box.setValue(args["width"])
            self.panel.height_box.setValue(args["height"])
        elif call.name == "set_seed":
            self.panel.seed.setText(str(args["seed"]))
        elif call.name == "generate_image":
            if args.get("prompt"):
                self._set_prompt(args["prompt"])
            self.queue(self.panel.prompt.toPlainText().strip())
            return
        self.chat.show_notice(f"Done: {call.describe()}")

    @Slot(str)
    def imagine(self, prompt: str) -> None:
        self.queue(prompt)

    def queue(self, prompt: str) -> bool:
        """Queue one generation of `prompt` with the panel's other settings; says why not when it cannot."""
        try:
            params = self.panel.params()
        except ParamError as error:
            self.chat.show_notice(f"Cannot make the image: {error}")
            return False
        if not prompt:
            self.chat.show_notice("Cannot make the image: the prompt is empty")
            return False
        if prompt != params.prompt:  # /imagine: another prompt than the panel's, so no rewrite to record
            params = params.replace(prompt=prompt, original_prompt="")
        self.panel.generate_requested.emit(params)
        if not self.panel.lock.isChecked():
            self.panel.seed.setText(str(random_seed()))  # as the Generate button does: the next image gets a new seed
        self.chat.show_notice(f"Queued an image of “{prompt[:80]}” (seed {params.seed}).")
        return True
