"""Where images are made, as the main window gets it: this computer, or a ComfyUI server the user chose.

Settings > Image Engine… opens the dialog; a saved server choice makes a ComfyUIClient (its own lane)
the client the prompt panel's Generate goes to, and the server's checkpoints the models the panel
lists. Nothing contacts a server the user did not choose: with the default settings no client for
a server exists at all. The token is kept by `keys` (get/set/delete by URL, the chat engine's key
store where there is one), never in settings.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.messages import Failed
from desktop.core.models import CONTROLNET, ModelEntry
from desktop.core.server_address import AddressError, ServerAddress
from desktop.core.server_messages import ServerModels, ServerModelsJob
from desktop.ui.image_engine_dialog import COMFYUI, LOCAL, ImageEngineChoice, ImageEngineDialog

SESSION_ONLY = ("The token is kept only until Atelier closes (no keyring here): it must be typed again next time.")


class SessionKeys:
    """Tokens by server URL, in memory only: the fallback when no keyring-backed store is given."""

    notice = SESSION_ONLY

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def get(self, url: str) -> str:
        return self._keys.get(url, "")

    def set(self, url: str, key: str) -> str:
        if key:
            self._keys[url] = key
        else:
            self._keys.pop(url, None)
        return self.notice if key else ""

    def delete(self, url: str) -> None:
        self._keys.pop(url, None)


def server_entries(models: ServerModels) -> list[ModelEntry]:
    """The server's checkpoints as the prompt panel lists models (path: the name the server knows)."""
    source = f"ComfyUI at {models.url}"
    entries = []
    for name in models.checkpoints:
        stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        entries.append(ModelEntry(stem, name, "checkpoint file", source=source))
    return entries


def server_controlnets(models: ServerModels) -> list[ModelEntry]:
    """The server's ControlNets as the control layer dialog lists them (name: the stem, resolved there by stem)."""
    source = f"ComfyUI at {models.url}"
    return [ModelEntry(name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0], name, CONTROLNET, source=source)
            for name in models.controlnets]


class ImageEngine(QObject):
    """Owns the Image Engine dialog and, when a server is chosen, its ComfyUIClient."""

    client_changed = Signal(object)  # the EngineClient Generate should use now
    models_listed = Signal(list)  # the server's checkpoints as ModelEntry values (after a server is chosen)

    def __init__(self, window, settings, save: Callable[[], None], local_client, outputs_dir: Callable[[], Path],
                 keys=None) -> None:
        super().__init__(window)
        self.window, self.settings, self.save = window, settings, save
        self.local_client, self.outputs_dir = local_client, outputs_dir
        self.keys = keys or SessionKeys()
        self.server_client = None
        self.server_models: list[ModelEntry] = []  # the server's checkpoints, once it listed them
        self.server_controlnets: list[ModelEntry] = []  # and its ControlNets
        self.dialog: ImageEngineDialog | None = None
        window.add_action("&Settings", "&Image Engine…", self.open_dialog, None,
                          "Make images on this computer or on a ComfyUI server")

    @property
    def client(self):
        return self.server_client or self.local_client

    def start(self) -> None:
        """After the first paint: reconnect to the server chosen last time (only if one was chosen)."""
        if self.settings.image_engine == COMFYUI and self.settings.comfyui_url:
            self._use_server(self.settings.comfyui_url, self.keys.get(self.settings.comfyui_url))

    @Slot()
    def open_dialog(self) -> ImageEngineDialog:
        url = self.settings.comfyui_url
        dialog = ImageEngineDialog(self.settings.image_engine, url, self.keys.get(url) if url else "",
                                   self.settings.comfyui_checkpoint, getattr(self.keys, "notice", ""),
                                   self.outputs_dir, self.window)
        dialog.chosen.connect(self.choose)
        self.dialog = dialog
        dialog.show()
        return dialog

    @Slot(object)
    def choose(self, choice: ImageEngineChoice) -> None:
        settings = self.settings
        if choice.engine == COMFYUI:
            if settings.comfyui_url and settings.comfyui_url != choice.url:
                self.keys.delete(settings.comfyui_url)  # the old server's token is not kept around
            notice = self.keys.set(choice.url, choice.token)
            settings.image_engine, settings.comfyui_url = COMFYUI, choice.url
            settings.comfyui_checkpoint = choice.checkpoint
            self.save()
            self._use_server(choice.url, choice.token)
            self.window.show_status(f"Images are made on the ComfyUI server at {choice.url}"
                                    + (f". {notice}" if notice else ""))
        else:
            settings.image_engine = LOCAL
            self.save()
            self._stop_server()
            self.client_changed.emit(self.local_client)
            self.window.show_status("Images are made on this computer")

    def _use_server(self, url: str, token: str) -> None:
        from desktop.worker.comfyui_client import ComfyUIClient

        try:
            address = ServerAddress.checked(url, token)
        except AddressError as error:  # a hand-edited settings file: say so, stay on this computer
            self.window.show_error(f"Image engine: {error}")
            return
        self._stop_server()
        self.server_client = ComfyUIClient(address, self.outputs_dir, parent=self)
        self.server_client.start()
        self.client_changed.emit(self.server_client)
        handle = self.server_client.submit(ServerModelsJob())
        handle.finished.connect(self._on_models)

    def _on_models(self, terminal) -> None:
        handle = self.sender()
        if isinstance(terminal, Failed):
            self.window.show_error(f"Image engine: {terminal.message}")
            return
        listed = next((m for m in handle.received if isinstance(m, ServerModels)), None)
        if listed is not None and self.server_client is not None and listed.url == self.server_client.address.url:
            self.server_models = server_entries(listed)
            self.server_controlnets = server_controlnets(listed)
            self.models_listed.emit(self.server_models)

    def _stop_server(self) -> None:
        if self.server_client is not None:
            self.server_client.stop()
            self.server_client = None
            self.server_models = []
            self.server_controlnets = []

    def steering_models(self, local: tuple[ModelEntry, ...]) -> tuple[ModelEntry, ...]:
        """The models control layers may name: on a server its ControlNets (control pictures are still made
        here, with this computer's depth and pose models); on this computer its own."""
        if self.server_client is None:
            return local
        return tuple(e for e in local if e.kind != CONTROLNET) + tuple(self.server_controlnets)

    def shutdown(self) -> None:
        self._stop_server()


def install_image_engine(app) -> ImageEngine:
    """Wire the image engine into the app: Generate goes to the chosen client, the panel lists its models.

    The generation controller is handed the client itself (`controller.client`): its next jobs go there.
    """
    local = app.client
    connections = getattr(app, "connections", None)  # the chat engine's keyring-backed key store, when there
    engine = ImageEngine(app.window, app.settings, lambda: app.settings.save(app.settings_path), local,
                         app.outputs_dir, keys=connections.keys if connections is not None else None)

    def on_client(client) -> None:
        app.controller.client = client
        if client is not local:  # a new server client: its status (no job) reaches the status bar too
            client.status.connect(app.status_bridge.on_message)
        app.refresh_models()  # the server's checkpoints once listed; this computer's models again for local

    engine.client_changed.connect(on_client)
    engine.models_listed.connect(lambda _entries: app.refresh_models())
    return engine
