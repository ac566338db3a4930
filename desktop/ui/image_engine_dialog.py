"""Settings > Image Engine: make images on this computer, or on a ComfyUI server the user names.

Nothing is sent anywhere until the user presses Connect (which asks the server what it is and which
checkpoints it has) or saves a server choice. The address and token are checked as they are typed.
The question runs on a ComfyUIClient's lane, so a slow or hung server never freezes the dialog.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QDialog, QLabel, QLineEdit, QPushButton, QRadioButton, QWidget

from desktop.core.messages import Failed
from desktop.core.server_address import AddressError, ServerAddress
from desktop.core.server_messages import ServerModels, ServerModelsJob
from desktop.ui.engine_dialog_layout import lay_out_engine_dialog, say_problem

LOCAL, COMFYUI = "local", "comfyui"


@dataclass(frozen=True)
class ImageEngineChoice:
    """What the user saved: where images are made, and for a server its address, token and checkpoint."""

    engine: str
    url: str = ""
    token: str = field(default="", repr=False)
    checkpoint: str = ""


class ImageEngineDialog(QDialog):
    """Choose this computer or a ComfyUI server; Connect lists its checkpoints; Save says `chosen`."""

    chosen = Signal(object)  # ImageEngineChoice

    def __init__(self, engine: str, url: str, token: str, checkpoint: str, token_notice: str = "",
                 outputs_dir=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Image Engine")
        self.resize(600, 280)
        self.client = None  # the ComfyUIClient asked for the checkpoint list, while one is
        self._outputs_dir = outputs_dir
        self.local = QRadioButton("This computer (the image models in your model folders)", self)
        self.server = QRadioButton("A ComfyUI server (on this or another machine)", self)
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        self.url = QLineEdit(url, self)
        self.url.setObjectName("comfyui-url")
        self.url.setPlaceholderText("http://192.168.1.20:8188")
        self.token = QLineEdit(token, self)
        self.token.setObjectName("comfyui-token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Bearer token, if a proxy in front of the server asks for one")
        self.token_note = QLabel(token_notice or "The token is sent only to this server, never written to a log.",
                                 self)
        self.token_note.setWordWrap(True)
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setToolTip("Ask the server what it is and which checkpoints it has (/object_info)")
        self.connect_button.clicked.connect(self.connect_server)
        self.checkpoints = QComboBox(self)
        self.checkpoints.setObjectName("comfyui-checkpoints")
        if checkpoint:
            self.checkpoints.addItem(checkpoint)
        lay_out_engine_dialog(self, "Token", self.token, self.token_note, self.checkpoints, "comfyui-status",
                              engine == COMFYUI)

    # ------------------------------------------------------------------ checks
    def _check(self, quiet: bool = False) -> ServerAddress | None:
        """The address as it will be used, or None after saying what to fix."""
        try:
            address = ServerAddress.checked(self.url.text(), self.token.text())
        except AddressError as error:
            if not quiet or self.url.text().strip():
                say_problem(self.status, error)
            return None
        if quiet:
            self.status.setText(f"Will use {address.url}")
        return address

    # ------------------------------------------------------------------ the checkpoint list
    def connect_server(self) -> None:
        address = self._check()
        if address is None:
            return
        from desktop.worker.comfyui_client import ComfyUIClient  # QtCore only; the lane does the talking

        self._stop_client()
        self.client = ComfyUIClient(address, self._outputs_dir or (lambda: None), parent=self)
        self.client.start()
        handle = self.client.submit(ServerModelsJob())
        handle.finished.connect(self._on_models)
        self.connect_button.setEnabled(False)
        self.status.setText(f"Asking {address.url} what it has…")

    def _on_models(self, terminal) -> None:
        self.connect_button.setEnabled(True)
        handle = self.sender()
        if isinstance(terminal, Failed):
            self.status.setText(f"⚠ {terminal.message}")
            return
        listed = next((m for m in handle.received if isinstance(m, ServerModels)), None)
        names = list(listed.checkpoints) if listed else []
        current = self.checkpoints.currentText()
        self.checkpoints.clear()
        self.checkpoints.addItems(names)
        if current in names:
            self.checkpoints.setCurrentText(current)
        version = f"ComfyUI {listed.version}" if listed else "ComfyUI"
        self.status.setText(f"Connected to {version}: {len(names)} checkpoint{'s' * (len(names) != 1)}, "
                            f"{len(listed.loras) if listed else 0} LoRAs." if names else
                            f"Connected to {version}, but it has no checkpoints: put one in its models/checkpoints.")

    def _stop_client(self) -> None:
        if self.client is not None:
            self.client.stop()
            self.client = None

    # ------------------------------------------------------------------ saving
    def save(self) -> None:
        if self.local.isChecked():
            self.chosen.emit(ImageEngineChoice(LOCAL))
            self.accept()
            return
        address = self._check()
        if address is None:
            return
        checkpoint = self.checkpoints.currentText().strip()
        if not checkpoint:
            self.status.setText("⚠ Choose a checkpoint: press Connect to list the server's checkpoints.")
            return
        self.chosen.emit(ImageEngineChoice(COMFYUI, address.url, address.token, checkpoint))
        self.accept()

    def done(self, result: int) -> None:  # noqa: D401 (Qt's name): closing ends the listing client
        self._stop_client()
        super().done(result)
