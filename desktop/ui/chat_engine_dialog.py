"""Settings > Chat Engine: chat on this computer, or on an OpenAI-compatible server the user names.

Nothing is sent anywhere until the user presses Connect (GET /v1/models on their server) or saves a
server choice. The address and key are checked as they are typed; the key is stored with the
platform's keyring (desktop.core.api_key) or, where there is none, kept for this session with a
note saying so. The model list comes from the server through a ServerClient's lane, so a slow or
hung server never freezes the dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QDialog, QLabel, QLineEdit, QPushButton, QRadioButton, QWidget

from desktop.core.chat_server import check_api_key, check_server_url
from desktop.core.messages import Cancelled, Failed
from desktop.ui.engine_dialog_layout import lay_out_engine_dialog, say_problem

LOCAL, SERVER = "local", "server"
EXAMPLES = ("Ollama http://localhost:11434 · LM Studio http://localhost:1234/v1 · llama.cpp http://localhost:8080 · "
            "vLLM / transformers serve http://host:8000 · Jan http://localhost:1337/v1")


@dataclass(frozen=True)
class ChatEngineChoice:
    """What the user saved: where chat runs, and for a server its address, key and model."""

    engine: str
    url: str = ""
    key: str = ""
    model: str = ""


class ChatEngineDialog(QDialog):
    """Choose this computer or a server; Connect lists the server's models; Save says `chosen`."""

    chosen = Signal(object)  # ChatEngineChoice

    def __init__(self, engine: str, url: str, key: str, model: str, key_notice: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Chat Engine")
        self.resize(620, 300)
        self.client = None  # the ServerClient asked for the model list, while one is
        self.models_handle = None
        self.local = QRadioButton("This computer (the chat models in your model folders)", self)
        self.server = QRadioButton("A server (OpenAI-compatible: Ollama, LM Studio, llama.cpp, vLLM, Jan, "
                                   "GPT4All, transformers serve)", self)
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        self.url = QLineEdit(url, self)
        self.url.setObjectName("server-url")
        self.url.setPlaceholderText("http://localhost:11434")
        self.url.setToolTip(EXAMPLES)
        self.key = QLineEdit(key, self)
        self.key.setObjectName("server-key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("API key, if the server needs one")
        self.key_note = QLabel(key_notice or "The key is kept in your system's keyring, never in Atelier's files.",
                               self)
        self.key_note.setWordWrap(True)
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setToolTip("Ask the server for its models (GET /v1/models)")
        self.connect_button.clicked.connect(self.connect_server)
        self.models = QComboBox(self)
        self.models.setObjectName("server-models")
        self.models.setEditable(True)  # a server that lists nothing may still serve a named model
        if model:
            self.models.addItem(model)
        lay_out_engine_dialog(self, "API key", self.key, self.key_note, self.models, "server-status",
                              engine == SERVER)

    # ------------------------------------------------------------------ checks
    def _check(self, quiet: bool = False) -> tuple[str, str] | None:
        """(url, key) as they will be used, or None after saying what to fix."""
        try:
            url = check_server_url(self.url.text())
            key = check_api_key(self.key.text())
        except ValueError as error:
            if not quiet or self.url.text().strip():
                say_problem(self.status, error)
            return None
        if quiet:
            self.status.setText(f"Will use {url}")
        return url, key

    # ------------------------------------------------------------------ the model list
    def connect_server(self) -> None:
        checked = self._check()
        if checked is None:
            return
        from desktop.worker.server_client import ChatModelsJob, ServerClient  # QtCore only

        self._stop_client()
        url, key = checked
        self.client = ServerClient(url, key, store=None, parent=self)
        self.client.start()
        self.models_handle = self.client.submit(ChatModelsJob())  # kept: a handle has no Qt parent to keep it
        self.models_handle.finished.connect(self._on_models)
        self.connect_button.setEnabled(False)
        self.status.setText(f"Asking {url} for its models…")

    def _on_models(self, terminal) -> None:
        from desktop.worker.server_client import ChatModels

        handle = self.models_handle
        if handle is None or terminal.job_id != handle.job_id or isinstance(terminal, Cancelled):
            return  # an earlier request, or one stopped by closing the dialog
        self.connect_button.setEnabled(True)
        if isinstance(terminal, Failed):
            self.status.setText(f"⚠ {terminal.message}")
            return
        listed = next((m for m in handle.received if isinstance(m, ChatModels)), None)
        names = [m.id for m in listed.models] if listed else []
        current = self.models.currentText()
        self.models.clear()
        self.models.addItems(names)
        if current in names:
            self.models.setCurrentText(current)
        self.status.setText(f"Connected: {len(names)} model{'s' * (len(names) != 1)}." if names else
                            "Connected, but the server lists no models: type the model's name.")

    def _stop_client(self) -> None:
        if self.client is not None:
            self.client.stop()  # a request waiting on a silent server is cancelled: the socket is shut
            self.client = None
            self.models_handle = None
            self.connect_button.setEnabled(True)

    # ------------------------------------------------------------------ saving
    def save(self) -> None:
        if self.local.isChecked():
            self.chosen.emit(ChatEngineChoice(LOCAL))
            self.accept()
            return
        checked = self._check()
        if checked is None:
            return
        model = self.models.currentText().strip()
        if not model:
            self.status.setText("⚠ Choose a model: press Connect to list the server's models, or type a name.")
            return
        url, key = checked
        self.chosen.emit(ChatEngineChoice(SERVER, url, key, model))
        self.accept()

    def done(self, result: int) -> None:  # noqa: D401 (Qt's name): closing ends the listing client
        self._stop_client()
        super().done(result)
