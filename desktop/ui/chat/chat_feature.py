"""The chat feature as the main window gets it: the dock on the right, its canvas actions, and Enhance."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from desktop.ui.chat.assistant_actions import AssistantActions
from desktop.ui.chat.enhance import PromptEnhancer
from desktop.ui.chat_dock import ChatPanel

DOCK_MIN_WIDTH = 360
SHARES_TABS_WITH = "Gallery"  # the right column is crowded (layers, history, gallery): chat takes a tab


class ChatFeature:
    """Builds and connects the chat dock, AssistantActions and the PromptEnhancer for one window."""

    def __init__(self, window, client, store, prompt, request_image, settings=None) -> None:
        """`prompt`: the PromptModel; `request_image(**overrides)`: queue a generation (GenerationController.request)."""
        self.panel = ChatPanel(store, client, settings)
        self.dock = window.add_dock("Chat", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock.setMinimumWidth(DOCK_MIN_WIDTH)
        neighbour = next((d for d in window.findChildren(QDockWidget) if d is not self.dock
                          and d.windowTitle() == SHARES_TABS_WITH
                          and window.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea), None)
        if neighbour is not None:
            window.tabifyDockWidget(neighbour, self.dock)
            self.dock.raise_()
        self.actions = AssistantActions(self.panel, prompt, request_image)
        self.enhancer = PromptEnhancer(prompt, window.prompt_panel, client, self.panel.selected_model)
        window.add_action("&View", "Focus Chat &Input", self.focus_input, "Ctrl+Shift+C",
                          "Show the chat dock and type a message")

    def set_models(self, entries, models_dir: str = "") -> None:
        """Every discovered model; the dock keeps the chat models."""
        self.panel.set_models(entries, models_dir)

    def focus_input(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.panel.input.setFocus()
