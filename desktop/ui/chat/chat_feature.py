"""The chat feature as the main window gets it: the dock on the right, its canvas actions, and Enhance."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.ui.chat.assistant_actions import AssistantActions
from desktop.ui.chat.enhance import PromptEnhancer
from desktop.ui.chat_dock import ChatPanel

DOCK_MIN_WIDTH = 300


class ChatFeature:
    """Builds and connects the chat dock, AssistantActions and the PromptEnhancer for one window."""

    def __init__(self, window, client, store, prompt, request_image, settings=None) -> None:
        """`prompt`: the PromptModel; `request_image(**overrides)`: queue a generation (GenerationController.request)."""
        self.panel = ChatPanel(store, client, settings)
        self.dock = window.add_dock("Chat", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock.setMinimumWidth(DOCK_MIN_WIDTH)  # the window tabs it with the Gallery when it is first shown
        self.actions = AssistantActions(self.panel, prompt, request_image)
        self.enhancer = PromptEnhancer(prompt, window.prompt_panel, client, self.panel.selected_model)
        window.add_action("&View", "Focus Chat &Input", self.focus_input, "Ctrl+Shift+C",
                          "Show the chat dock and type a message")

    server_models: list | None = None  # a chat server's models, while chat runs on one (Settings > Chat Engine)

    def set_models(self, entries, models_dir: str = "") -> None:
        """Every discovered model; the dock keeps the chat models (a server's, while one is chosen)."""
        self.panel.set_models(entries if self.server_models is None else self.server_models, models_dir)

    def use_client(self, client, server_models: list | None = None) -> None:
        """Chat and Enhance go to this client from now on: this computer's lane, or a chat server's.

        A reply being written is stopped first (it ends "stopped", kept). `server_models`: the models to
        offer while a server is used; None goes back to the local models at the next set_models.
        """
        self.server_models = server_models
        for owner in (self.panel, self.enhancer):  # both follow per-job handles of an EngineClient
            if owner.client is not client and owner.handle is not None:
                owner.handle.cancel()  # the handle still brings its Cancelled: the reply ends "stopped"
            owner.client = client
        if server_models is not None:
            self.panel.set_models(server_models)

    def focus_input(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.panel.input.setFocus()
