"""The chat feature as the main window gets it: the dock on the right, its canvas actions, and Enhance."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.ui.chat.assistant_actions import AssistantActions
from desktop.ui.chat.enhance import PromptEnhancer
from desktop.ui.chat_dock import ChatPanel

DOCK_MIN_WIDTH = 300


class ChatFeature:
    """Builds and connects the chat dock, AssistantActions and the PromptEnhancer for one window."""

    def __init__(self, window, worker, store, settings=None) -> None:
        self.panel = ChatPanel(store, worker, settings)
        self.dock = window.add_dock("Chat", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock.setMinimumWidth(DOCK_MIN_WIDTH)  # the window tabs it with the Gallery when it is first shown
        self.actions = AssistantActions(self.panel, window.prompt_panel)
        self.enhancer = PromptEnhancer(window.prompt_panel, worker, self.panel.selected_model)
        window.add_action("&View", "Focus Chat &Input", self.focus_input, "Ctrl+Shift+C",
                          "Show the chat dock and type a message")

    def set_models(self, entries, models_dir: str = "") -> None:
        """Every discovered model; the dock keeps the chat models."""
        self.panel.set_models(entries, models_dir)

    def focus_input(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.panel.input.setFocus()
