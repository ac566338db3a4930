"""What the welcome's buttons do: import a model file, or add a folder of models, then rescan.

Importing test-loads a checkpoint (torch, seconds to a minute, gigabytes of memory) before it keeps
the file in the models folder, so it runs in a helper process, `atelier models import FILE`, the same command a user can type: the window stays
responsive, the model lane stays free, and the memory is returned when the helper exits. The file
is inspected first (header only, no torch), so a pickle or a LoRA is refused at once with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QProcess, Signal, Slot

from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.models import IMAGE_KINDS, SINGLE_FILE, discover_models
from desktop.core.settings import Settings
from desktop.ui.welcome import WelcomePanel, starter_models


def atelier_command() -> list[str]:
    """How to start Atelier's command line: the bundle's own binary, or main.py from source."""
    if getattr(sys, "frozen", False):
        # on Windows the windowed Atelier.exe has no stdout; its console twin answers instead
        console = Path(sys.executable).with_name("Atelier-cli.exe")
        return [str(console)] if sys.platform == "win32" and console.exists() else [sys.executable]
    import desktop

    return [sys.executable, str(Path(desktop.__file__).resolve().parents[1] / "main.py")]


class ModelSetup(QObject):
    """Carries out the welcome's choices and says how they went."""

    models_changed = Signal(str)  # the model to select after a rescan ("" for none in particular)
    message = Signal(str, bool)  # text for the user, busy

    def __init__(self, settings: Settings, settings_path: Path, models_dir: Callable[[], Path],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings, self.settings_path, self.models_dir = settings, settings_path, models_dir
        self.process: QProcess | None = None

    @Slot(str)
    def add_folder(self, folder: str) -> None:
        path = Path(folder).expanduser()
        if not path.is_dir():
            self.message.emit(f"{path} is not a folder you can read: choose another one.", False)
            return
        known = {str(Path(p).resolve()) for p in self.settings.extra_model_dirs} | {str(self.models_dir().resolve())}
        if str(path.resolve()) not in known:
            self.settings.extra_model_dirs = self.settings.extra_model_dirs + [str(path)]
            self.settings.save(self.settings_path)
        images = [e for e in discover_models([path]) if e.kind in IMAGE_KINDS and e.usable]
        if images:
            self.message.emit(f"Found {len(images)} image model{'s' if len(images) > 1 else ''} in {path}.", False)
            self.models_changed.emit(images[0].path)
        else:
            self.message.emit(f"No usable Stable Diffusion model in {path} yet. Atelier keeps watching it: "
                              "add models there, then choose File > Rescan Models.", False)
            self.models_changed.emit("")

    @Slot(str)
    def import_file(self, file: str) -> None:
        if self.process is not None:
            self.message.emit("An import is already running; wait for it to finish.", True)
            return
        path = Path(file)
        try:
            info = inspect_file(path)  # the header only: refuses pickles and non-checkpoints in milliseconds
        except (CheckpointError, OSError) as error:
            self.message.emit(str(error), False)
            return
        if info.problem:
            self.message.emit(f"{path.name}: {info.problem}", False)
            return
        if info.kind != SINGLE_FILE:
            self.message.emit(f"{path.name} is a {info.kind} file, not a whole model: add a Stable Diffusion "
                              "checkpoint first (LoRAs and VAEs go in the Models window).", False)
            return
        program, *args = atelier_command()
        self.process = QProcess(self)
        self.process.setProgram(program)
        self.process.setArguments(args + ["models", "import", str(path)])
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)
        self.message.emit(f"Importing {path.name} ({info.family}): checking that it loads, then adding it to "
                          "your models. This takes up to a minute…", True)
        self.process.start()

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, _status) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        out = bytes(process.readAllStandardOutput()).decode(errors="replace")
        err = bytes(process.readAllStandardError()).decode(errors="replace")
        if code == 0:
            where = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Now lives at:")]
            self.message.emit("Imported. Type a prompt and press Generate.", False)
            self.models_changed.emit(where[0] if where else "")
        else:
            lines = [line for line in err.splitlines() if line.strip()]
            reason = lines[-1].removeprefix("atelier models: ") if lines else f"the import stopped (code {code})"
            self.message.emit(f"Could not import: {reason}", False)

    @Slot(QProcess.ProcessError)
    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self.process = None
            self.message.emit(f"Could not start the importer ({' '.join(atelier_command())}): reinstall Atelier.",
                              False)


def install_welcome(canvas, settings: Settings, settings_path: Path, models_dir: Callable[[], Path],
                    refresh: Callable[..., object], catalog: Path,
                    open_models_window: Callable[[], None] | None = None) -> WelcomePanel:
    """The welcome over the canvas, wired to a ModelSetup; the caller shows or hides it."""
    panel = WelcomePanel(starter_models(catalog), str(models_dir()), download_available=open_models_window is not None)
    panel.attach(canvas)
    panel.setup = ModelSetup(settings, settings_path, models_dir, panel)
    panel.model_file_chosen.connect(panel.setup.import_file)
    panel.models_folder_chosen.connect(panel.setup.add_folder)
    panel.setup.message.connect(panel.show_message)
    panel.setup.models_changed.connect(lambda path: refresh(select=path))
    if open_models_window is not None:
        panel.download_requested.connect(open_models_window)
    return panel
