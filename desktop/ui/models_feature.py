"""The Models feature as the main window gets it: the Models window, model files dropped on the window,
imports on the model lane, downloads on their own network lane, and the app's model list kept current.

Imports load the checkpoint once to check it, so they run on the model lane's client (one owner of model
memory); downloads touch no model, so they run on a second client with a network lane of its own and
never wait behind a generation. Nothing is contacted until the user clicks Download: that lane's thread
starts then. Each job is followed through its own JobHandle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.core.catalog import CatalogError, load_catalog
from desktop.core.messages import Cancelled, Done, Failed
from desktop.core.models import IMAGE_KINDS, MODEL_FILE_SUFFIXES
from desktop.core.paths import hf_cache_dir
from desktop.core.pickle_files import PICKLE_SUFFIXES, looks_like_pickle, refusal_message
from desktop.ui.models_window import ModelsWindow
from desktop.worker.client import EngineClient
from desktop.worker.download_worker import (DownloadFinished, DownloadJob, ImportFinished, ImportModelJob,
                                            download_job_for, make_download_worker)

TRUST_FILE = "trusted_pickles.json"  # the pickle files the user opted in for, by SHA-256
DROPPED_SUFFIXES = MODEL_FILE_SUFFIXES | PICKLE_SUFFIXES


def model_files(event) -> list[str]:
    """The dropped local files when every one of them is a model file (pictures stay the canvas's)."""
    mime = event.mimeData()
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []
    return paths if paths and all(Path(p).suffix.lower() in DROPPED_SUFFIXES for p in paths) else []


def ask_trust_pickle(parent: QWidget, path: str) -> bool:
    """The explicit, per-file opt-in: No is the default answer."""
    answer = QMessageBox.warning(
        parent, "A pickle file", refusal_message(path) + "\n\nConvert this one file now (weights only)?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class ModelFileDrops(QObject):
    """Event filter: model files dropped on the window or its canvas are imported, not opened as pictures."""

    def __init__(self, on_files: Callable[[list[str]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.on_files = on_files

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and model_files(event):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop:
            files = model_files(event)
            if files:
                event.acceptProposedAction()
                self.on_files(files)
                return True
        return False


class ModelsFeature(QObject):
    """Connects the Models window and model-file drops to the lanes, the settings and the app's model list."""

    def __init__(self, window, client, settings, settings_path: Path, config_dir: Path,
                 models_dir: Callable[[], Path], refresh: Callable[..., list],
                 ask_trust: Callable[[QWidget, str], bool] = ask_trust_pickle, endpoint: str | None = None) -> None:
        """`client`: the model lane's client (it runs ImportModelJob); downloads get a client of their own."""
        super().__init__(window)
        self.window, self.client, self.settings, self.settings_path = window, client, settings, settings_path
        self.trust_file = str(Path(config_dir) / TRUST_FILE)
        self.models_dir, self.refresh, self.ask_trust, self.endpoint = models_dir, refresh, ask_trust, endpoint
        self.jobs: dict = {}  # job id -> JobHandle of the imports and downloads this feature asked for
        self.models_window: ModelsWindow | None = None
        self.catalog: list = []
        self.network = EngineClient(make_download_worker(), "Downloads", self)
        self.drops = ModelFileDrops(self.import_files, self)
        window.setAcceptDrops(True)
        for widget in (window, window.canvas):
            widget.installEventFilter(self.drops)
        window.add_action("&File", "&Models…", self.open_window, "Ctrl+Shift+M",
                          "Models: import, download, folders")

    # ------------------------------------------------------------------ the window
    @Slot()
    def open_window(self, downloads: bool = False) -> ModelsWindow:
        if self.models_window is None:
            try:
                self.catalog = load_catalog()
            except CatalogError as error:  # a damaged catalog costs the Download list, not the window
                self.window.show_error(str(error))
            models = ModelsWindow(self.refresh(), self.catalog, list(self.settings.extra_model_dirs), self.window)
            models.import_requested.connect(self.import_file)
            models.download_requested.connect(self.download)
            models.cancel_requested.connect(self.cancel)
            models.refresh_requested.connect(self.rescan)
            models.folders_changed.connect(self.set_folders)
            models.drop_cache_requested.connect(self.drop_gguf_cache)
            self.models_window = models
        else:
            self.rescan()
        self.models_window.tabs.setCurrentIndex(1 if downloads else 0)
        self.models_window.show()
        self.models_window.raise_()
        self.models_window.activateWindow()
        return self.models_window

    def show_downloads(self) -> None:
        """The welcome's "Download a starter model": the curated list, nothing fetched until a click."""
        self.open_window(downloads=True)

    @Slot()
    def rescan(self, select: str = "") -> list:
        entries = self.refresh(select=select)  # the app's list; the prompt panel keeps its model unless told
        if self.models_window is not None:
            self.models_window.set_entries(entries)
        return entries

    @Slot(list)
    def set_folders(self, folders: list) -> None:
        self.settings.extra_model_dirs = [str(f) for f in folders]
        self.settings.save(self.settings_path)
        self.rescan()

    @Slot(str)
    def drop_gguf_cache(self, path: str) -> int:
        """Delete a GGUF's converted copy (the GGUF stays); its next start converts it again."""
        from desktop.core.gguf_files import drop_cache

        try:
            freed = drop_cache(path)
        except OSError as error:  # Windows keeps a file in use: the chat model is loaded from it
            self._say(f"Could not delete the converted copy ({error.strerror or error}): choose another chat model "
                      "first, then try again", error=True)
            return 0
        self._say(f"Dropped the converted copy of {Path(path).name}: {freed / 1e6:.0f} MB freed")
        self.rescan()
        return freed

    # ------------------------------------------------------------------ imports
    def import_files(self, paths: list[str]) -> list[int]:
        return [job for job in (self.import_file(path) for path in paths) if job is not None]

    @Slot(str)
    def import_file(self, path: str) -> int | None:
        """Queue an import on the model lane; a pickle only after the user's explicit yes for this file."""
        trusted = False
        if Path(path).suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path):
            if not self.ask_trust(self.models_window or self.window, path):
                self._say(f"Not imported: {refusal_message(path)}", error=True)
                return None
            trusted = True
        job = ImportModelJob(path, str(self.models_dir()), self.trust_file, trust_pickle=trusted)
        self._follow(self.client.submit(job))
        self._say(f"Importing {Path(path).name}…")
        return job.job_id

    # ------------------------------------------------------------------ downloads
    @Slot(str, str)
    def download(self, repo_id: str, catalog_id: str = "") -> int:
        entry = next((e for e in self.catalog if e.id == catalog_id), None) if catalog_id else None
        cache = hf_cache_dir()
        job = download_job_for(entry, cache, self.endpoint) if entry else DownloadJob(repo_id, str(cache),
                                                                                      endpoint=self.endpoint)
        self.network.start()  # the first click starts the network lane; nothing runs before
        self._follow(self.network.submit(job))
        if self.models_window is not None:
            self.models_window.set_download_job(job.job_id)
        self._say(f"Downloading {entry.title if entry else repo_id}…")
        return job.job_id

    @Slot(int)
    def cancel(self, job_id: int) -> None:
        handle = self.jobs.get(job_id)
        if handle is not None:
            handle.cancel()

    # ------------------------------------------------------------------ what each job's handle says
    def _follow(self, handle) -> None:
        self.jobs[handle.job_id] = handle
        handle.message.connect(self._on_message)  # delivered on the GUI thread, this job's messages only

    @Slot(object)
    def _on_message(self, message) -> None:
        job_id = getattr(message, "job_id", None)
        if self.models_window is not None:
            self.models_window.on_message(message)
        if isinstance(message, ImportFinished):
            self._say(f"{message.summary}: {message.path}")
            # a new image model becomes the selected one; a LoRA or VAE joins the lists beside it
            self.rescan(select=message.path if message.kind in IMAGE_KINDS else "")
        elif isinstance(message, DownloadFinished):
            self._say(f"Downloaded {message.repo_id}, verified: {message.folder}")
            self.rescan()
        elif isinstance(message, Failed):
            self._say(f"Failed: {message.message}", error=True)
        elif isinstance(message, Cancelled):
            self._say(f"Cancelled ({message.reason})")
        if isinstance(message, (Done, Failed, Cancelled)):
            self.jobs.pop(job_id, None)

    def _say(self, text: str, error: bool = False) -> None:
        (self.window.show_error if error else self.window.show_status)(text)

    def shutdown(self) -> None:
        self.network.stop()
