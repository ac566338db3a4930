"""What Atelier plugs into, as the main window gets it: other apps' model folders, and a chat server.

Settings > Model Folders… lists the folders other apps keep models in and the ones the user added;
Settings > Chat Engine… chooses this computer or an OpenAI-compatible server. The server's client
(its own lane) replaces the local one in the chat dock and for Enhance; its API key lives in the
keyring (desktop.core.api_key). Nothing contacts a server the user did not choose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Slot

from desktop.core.api_key import KeyStore
from desktop.core.models import CHAT, ModelEntry
from desktop.ui.chat_engine_dialog import LOCAL, SERVER, ChatEngineChoice, ChatEngineDialog
from desktop.ui.model_folders_dialog import ModelFoldersDialog


class Connections(QObject):
    """Owns the Model Folders and Chat Engine dialogs, the key store and the chat server's client."""

    def __init__(self, window, settings, save: Callable[[], None], refresh: Callable[..., list], chat, store,
                 local_client, keys: KeyStore | None = None) -> None:
        super().__init__(window)
        self.window, self.settings, self.save, self.refresh = window, settings, save, refresh
        self.chat, self.store, self.local_client = chat, store, local_client
        self.keys = keys or KeyStore()
        self.server_client = None  # the ServerClient in use, when the user chose a server
        self.folders_dialog: ModelFoldersDialog | None = None
        self.engine_dialog: ChatEngineDialog | None = None
        window.add_action("&Settings", "Model &Folders…", self.open_model_folders, None,
                          "Other apps' model folders (AUTOMATIC1111, ComfyUI, InvokeAI, LM Studio, Ollama…) and yours")
        window.add_action("&Settings", "Chat &Engine…", self.open_chat_engine, None,
                          "Chat on this computer or on an OpenAI-compatible server")

    # ------------------------------------------------------------------ model folders
    @Slot()
    def open_model_folders(self) -> ModelFoldersDialog:
        dialog = ModelFoldersDialog(list(self.settings.extra_model_dirs), list(self.settings.model_folders_off),
                                    parent=self.window)
        dialog.changed.connect(self.set_model_folders)
        self.folders_dialog = dialog
        dialog.show()
        return dialog

    @Slot(list, list)
    def set_model_folders(self, on: list, off: list) -> None:
        self.settings.extra_model_dirs = [str(p) for p in on]
        self.settings.model_folders_off = [str(p) for p in off]
        self.save()
        entries = self.refresh()
        here = [p for p in on if Path(p).is_dir()]
        count = sum(1 for e in entries if any(str(e.path).startswith(str(p)) for p in here))
        self.window.show_status(f"Model folders: {len(on)} in use ({len(on) - len(here)} offline), "
                                f"{count} models from them")

    # ------------------------------------------------------------------ chat engine
    @Slot()
    def open_chat_engine(self) -> ChatEngineDialog:
        url = self.settings.chat_server_url
        dialog = ChatEngineDialog(self.settings.chat_engine, url, self.keys.get(url) if url else "",
                                  self.settings.chat_server_model, self.keys.notice, self.window)
        dialog.chosen.connect(self.choose_chat_engine)
        self.engine_dialog = dialog
        dialog.show()
        return dialog

    @Slot(object)
    def choose_chat_engine(self, choice: ChatEngineChoice) -> None:
        settings = self.settings
        if choice.engine == SERVER:
            if settings.chat_server_url and settings.chat_server_url != choice.url:
                self.keys.delete(settings.chat_server_url)  # the old server's key is not kept around
            notice = self.keys.set(choice.url, choice.key)
            settings.chat_engine, settings.chat_server_url = SERVER, choice.url
            settings.chat_server_model = choice.model
            if notice:
                self.window.show_status(notice)
        else:
            settings.chat_engine = LOCAL
        self.save()
        self.apply()

    def apply(self) -> None:
        """Put the chosen engine behind the chat dock and Enhance (at start, and after every choice)."""
        settings = self.settings
        if settings.chat_engine == SERVER and settings.chat_server_url:
            from desktop.worker.server_client import ServerClient  # QtCore only

            self._stop_server()
            try:
                client = ServerClient(settings.chat_server_url, self.keys.get(settings.chat_server_url), self.store,
                                      parent=self)
            except ValueError as error:  # a settings file edited by hand
                self.window.show_error(f"The chat server address in the settings cannot be used: {error}")
                self.chat.use_client(self.local_client)
                return
            client.start()
            self.server_client = client
            model = settings.chat_server_model
            entries = [ModelEntry(name=model, path=model, kind=CHAT, family="server", source=client.url)] if model else []
            self.chat.use_client(client, entries)
            self.window.show_status(f"Chat: {model} on {client.url}")
        else:
            self._stop_server()
            self.chat.use_client(self.local_client)
            self.refresh()

    def _stop_server(self) -> None:
        if self.server_client is not None:
            self.server_client.stop()
            self.server_client = None

    def shutdown(self) -> None:
        self._stop_server()
