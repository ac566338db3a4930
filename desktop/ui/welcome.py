"""The first-run welcome: shown over the empty canvas while no image model is usable.

It says in a few lines what Atelier does and offers three ways to get a model: add a model file,
use a folder of models the user already has (A1111's, ComfyUI's), or download a starter model.
Built from data alone: it emits what the user chose; the app decides what that does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.ui import file_dialog

INTRO = (
    "Atelier makes images from your words and paints them into your pictures, and chats with a "
    "local language model, all on this computer. Nothing you make or type leaves it."
)
NEEDS_MODEL = "To begin, Atelier needs a Stable Diffusion model (SD 1.5, SD 2 or SDXL)."


@dataclass(frozen=True)
class StarterModel:
    """One download the welcome offers: its name, its size, and what it is good for."""

    name: str
    size_bytes: int
    note: str = ""


def human_size(size: int) -> str:
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB"


def starter_models(catalog: Path) -> list[StarterModel]:
    """Image models from resources/catalog.json, smallest first; nothing when the file is absent or odd.

    Read tolerantly: a list of entries, or {"models": [...]}, each with a name and a size in bytes.
    """
    try:
        data = json.loads(catalog.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("models", data.get("entries", [])) if isinstance(data, dict) else data
    starters = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or str(entry.get("kind", "image")).lower() not in (
                "image", "checkpoint", "text-to-image", "txt2img"):
            continue
        name = entry.get("name") or entry.get("title") or entry.get("repo_id")
        size = entry.get("size_bytes", entry.get("size", entry.get("download_bytes")))
        if isinstance(name, str) and isinstance(size, (int, float)) and size > 0:
            note = entry.get("note") or entry.get("description") or ""
            starters.append(StarterModel(name, int(size), note if isinstance(note, str) else ""))
    return sorted(starters, key=lambda s: s.size_bytes)


def choose_model_file(parent: QWidget) -> str:
    return file_dialog.open_file(parent, "Add a model file", "", "Model files (*.safetensors);;All files (*)") or ""


def choose_models_folder(parent: QWidget) -> str:
    return file_dialog.choose_folder(parent, "Use a models folder") or ""


class WelcomePanel(QFrame):
    """What Atelier is, and buttons for the three ways to get a first model."""

    model_file_chosen = Signal(str)
    models_folder_chosen = Signal(str)
    download_requested = Signal()

    def __init__(self, starters: list[StarterModel] = (), models_dir: str = "", download_available: bool = False,
                 choose_file: Callable[[QWidget], str] = choose_model_file,
                 choose_folder: Callable[[QWidget], str] = choose_models_folder,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setMaximumWidth(520)
        self._choose_file, self._choose_folder = choose_file, choose_folder
        title = QLabel("<h2>Welcome to Atelier</h2>")
        intro = QLabel(INTRO + "<br><br>" + NEEDS_MODEL)
        intro.setWordWrap(True)
        self.add_file_button = QPushButton("Add a model file…")
        self.add_file_button.setToolTip("Import a .safetensors checkpoint you downloaded (Civitai, Hugging Face)")
        self.folder_button = QPushButton("Use a models folder…")
        self.folder_button.setToolTip("Use the models you already have, for example A1111's "
                                      "models/Stable-diffusion or ComfyUI's models/checkpoints")
        self.download_button = QPushButton(self._download_text(starters))
        self.download_button.setVisible(bool(starters) and download_available)
        self.starters_label = QLabel(self._starters_text(starters))
        self.starters_label.setWordWrap(True)
        self.starters_label.setVisible(bool(starters) and download_available)
        where = f"Or copy a diffusers model folder into <code>{models_dir}</code>." if models_dir else ""
        self.where_label = QLabel(where)
        self.where_label.setWordWrap(True)
        self.where_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel("")  # import progress, or what went wrong and what to do
        self.message.setWordWrap(True)
        self.message.setObjectName("welcome-message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        for widget in (title, intro, self.add_file_button, self.folder_button, self.download_button,
                       self.starters_label, self.where_label, self.message):
            layout.addWidget(widget)
        self.add_file_button.clicked.connect(self._on_add_file)
        self.folder_button.clicked.connect(self._on_use_folder)
        self.download_button.clicked.connect(self.download_requested)

    @staticmethod
    def _download_text(starters) -> str:
        if not starters:
            return "Download a starter model…"
        return f"Download a starter model… (from {human_size(starters[0].size_bytes)})"

    @staticmethod
    def _starters_text(starters) -> str:
        return "<br>".join(f"• {s.name}: {human_size(s.size_bytes)}{f' ({s.note})' if s.note else ''}"
                           for s in starters[:4])

    def _on_add_file(self) -> None:
        path = self._choose_file(self)
        if path:
            self.model_file_chosen.emit(path)

    def _on_use_folder(self) -> None:
        folder = self._choose_folder(self)
        if folder:
            self.models_folder_chosen.emit(folder)

    def show_message(self, text: str, busy: bool = False) -> None:
        """Say how an import goes; while busy the buttons wait."""
        self.message.setText(text)
        for button in (self.add_file_button, self.folder_button, self.download_button):
            button.setEnabled(not busy)

    # ------------------------------------------------------------------ placement over the canvas
    def attach(self, canvas: QWidget) -> None:
        """Float centred over the canvas (which stays the central widget) and follow its size."""
        self.setParent(canvas)
        self._keeper = _Centre(self, canvas)
        self._keeper.place()


class _Centre(QObject):
    """Keeps a child widget centred in its parent as the parent is resized."""

    def __init__(self, child: QWidget, parent: QWidget) -> None:
        super().__init__(child)
        self.child, self.parent_widget = child, parent
        parent.installEventFilter(self)

    def place(self) -> None:
        width = max(220, min(self.child.maximumWidth(), self.parent_widget.width() - 48))
        layout = self.child.layout()
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else self.child.sizeHint().height()
        self.child.setGeometry((self.parent_widget.width() - width) // 2,
                               max(0, (self.parent_widget.height() - height) // 2), width, height)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.parent_widget and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.place()
        return False
