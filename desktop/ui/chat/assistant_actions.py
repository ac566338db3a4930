"""What the chat may do to the canvas side, carried out on the prompt model once the user allowed it.

"Use as prompt" fills the prompt; an approved tool call changes one setting (or queues an image);
`/imagine PROMPT` is always text to image of PROMPT into a new layer, with the other settings as they
are. Images are queued through `request_image` (GenerationController.request), the same path the
Generate button takes; a refusal is said in the chat, and "Queued" only after something was queued.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Slot

from desktop.core.messages import Failed
from desktop.core.tool_calls import ToolCall
from desktop.ui.prompt_panel import seeds_text


class AssistantActions(QObject):
    """Applies chat requests (prompt text, tool calls, /imagine) to the prompt model and reports back."""

    def __init__(self, chat_panel, prompt, request_image: Callable[..., object],
                 parent: QObject | None = None) -> None:
        super().__init__(parent or chat_panel)
        self.chat, self.prompt, self.request_image = chat_panel, prompt, request_image
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
        self.prompt.update(prompt=text, original_prompt="")  # a new prompt, not a rewrite of the one before

    @Slot(object)
    def apply_tool(self, call: ToolCall) -> None:
        args = call.arguments
        if call.name == "set_prompt":
            self._set_prompt(args["prompt"])
        elif call.name == "set_negative_prompt":
            self.prompt.negative_prompt = args["prompt"]
        elif call.name == "set_size":
            self.prompt.update(width=args["width"], height=args["height"])
        elif call.name == "set_seed":
            self.prompt.update(seed=args["seed"], seed_locked=True)  # asked for this seed: keep it
        elif call.name == "generate_image":
            if args.get("prompt"):
                self._set_prompt(args["prompt"])
            self.queue()
            return
        self.chat.show_notice(f"Done: {call.describe()}")

    @Slot(str)
    def imagine(self, prompt: str) -> None:
        self.queue(prompt=prompt, original_prompt="", mode="txt2img")

    def queue(self, **overrides) -> bool:
        """Queue one generation (the model's settings with `overrides`); says in the chat what happened."""
        prompt = overrides.get("prompt", self.prompt.prompt).strip()
        if not prompt:
            self.chat.show_notice("Cannot make the image: the prompt is empty")
            return False
        try:
            handle = self.request_image(**overrides)
        except ValueError as error:  # no model, a refused size, a canvas that cannot run it: nothing queued
            self.chat.show_notice(f"Cannot make the image: {error}")
            return False
        handle.finished.connect(self._on_image_finished)
        params = handle.job.params
        self.chat.show_notice(f"Queued an image of “{prompt[:80]}” ({seeds_text(params.seed, params.batch_size)}).")
        return True

    @Slot(object)
    def _on_image_finished(self, message) -> None:
        if isinstance(message, Failed):
            self.chat.show_notice(f"The image failed: {message.message}")
