"""The Models window: every model Atelier can use, importing files, adding folders, and curated downloads.

Built from data alone (model entries, catalog, folders); it never loads a model or opens a connection.
It asks for work through signals and shows what the worker reports through `on_message`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListWidget, QProgressBar, QPushButton, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from desktop.core.catalog import CatalogEntry
from desktop.core.downloads import DownloadProgress
from desktop.core.messages import Cancelled, Failed
from desktop.core.models import ModelEntry
from desktop.ui import file_dialog
from desktop.worker.download_worker import DownloadFinished, DownloadUpdate, ImportFinished

MODEL_FILTER = "Model files (*.safetensors *.ckpt *.pt *.pth *.bin)"
COLUMNS = ("Name", "Kind", "Family", "Size", "Where", "Ready offline", "Details")


def details(entry: ModelEntry) -> str:
    """GGUF chat models: the quantisation and the converted copy's size (or that it is made at first use)."""
    if not entry.quantization:
        return ""
    copy = (f"converted copy {human_size(entry.cache_bytes)}" if entry.cache_path else
            "converted once at first use")
    return f"{entry.quantization} · {copy}"


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def human_time(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def progress_text(progress: DownloadProgress) -> str:
    return (f"{human_size(progress.done_bytes)} of {human_size(progress.total_bytes)} · "
            f"{human_size(progress.bytes_per_second)}/s · {human_time(progress.seconds_left)} left · "
            f"file {min(progress.files_done + 1, progress.files_total)} of {progress.files_total}")


class ModelsWindow(QDialog):
    """Lists installed models, imports files (dialog or drag and drop), manages folders, offers downloads."""

    model_imported = Signal(str)  # name of a model that finished importing
    folders_changed = Signal(list)  # the extra folders to scan, after an add or a remove
    import_requested = Signal(str)  # a file the user chose or dropped: run an ImportModelJob for it
    download_requested = Signal(str, str)  # (repo id, catalog id or "") to fetch
    cancel_requested = Signal(int)  # job id of the download to cancel
    refresh_requested = Signal()
    drop_cache_requested = Signal(str)  # a GGUF whose converted copy should be deleted (never the GGUF)

    def __init__(self, entries: list[ModelEntry], catalog: list[CatalogEntry], folders: list[str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setAcceptDrops(True)
        self.resize(900, 520)
        self._folders = list(folders)
        self._catalog = list(catalog)
        self._download_job: int | None = None
        tabs = QTabWidget(self)
        tabs.addTab(self._build_installed(), "Installed")
        tabs.addTab(self._build_downloads(), "Download")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        self.status = QLabel("Drop .safetensors files here to import them.", self)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)  # Close and Esc hide the window; a download keeps running
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(buttons)
        layout.addLayout(footer)
        self.set_entries(entries)

    # ------------------------------------------------------------------ building
    def _build_installed(self) -> QWidget:
        page = QWidget(self)
        self.table = QTableWidget(0, len(COLUMNS), page)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.import_button = QPushButton("Import file…", page)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.refresh_button = QPushButton("Refresh", page)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.folder_list = QListWidget(page)
        self.folder_list.setMaximumHeight(80)
        self.folder_list.addItems(self._folders)
        self.add_folder_button = QPushButton("Add folder…", page)
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.remove_folder_button = QPushButton("Remove folder", page)
        self.remove_folder_button.clicked.connect(self._on_remove_folder_clicked)
        self.drop_cache_button = QPushButton("Drop converted copy", page)
        self.drop_cache_button.setToolTip("Delete the safetensors copy made from the selected GGUF (the GGUF stays); "
                                          "the next start converts it again")
        self.drop_cache_button.setEnabled(False)
        self.drop_cache_button.clicked.connect(self._on_drop_cache_clicked)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        buttons = QHBoxLayout()
        for button in (self.import_button, self.refresh_button, self.add_folder_button, self.remove_folder_button,
                       self.drop_cache_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Also scanned:", page))
        layout.addWidget(self.folder_list)
        return page

    def _build_downloads(self) -> QWidget:
        page = QWidget(self)
        self.catalog_table = QTableWidget(len(self._catalog), 6, page)
        self.catalog_table.setHorizontalHeaderLabels(("", "Model", "Family", "Size", "Memory (RAM / GPU)", "Licence"))
        self.catalog_table.horizontalHeader().setStretchLastSection(True)
        self.catalog_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.catalog_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.download_buttons: dict[str, QPushButton] = {}
        for row, entry in enumerate(self._catalog):
            cells = (entry.title, entry.family, human_size(entry.size_bytes),
                     f"{entry.ram_gb:g} GB / {entry.vram_gb:g} GB", entry.licence)
            for column, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{entry.repo_id}: {entry.description}" if entry.description else text)
                self.catalog_table.setItem(row, column, item)
            button = QPushButton("Download", page)
            button.clicked.connect(lambda _=False, e=entry: self.download_requested.emit(e.repo_id, e.id))
            self.catalog_table.setCellWidget(row, 0, button)
            self.download_buttons[entry.id] = button
        self.repo_edit = QLineEdit(page)
        self.repo_edit.setPlaceholderText("or any Hugging Face repo id, e.g. stabilityai/sd-turbo")
        self.repo_button = QPushButton("Download", page)
        self.repo_button.clicked.connect(self._on_repo_download_clicked)
        self.repo_edit.returnPressed.connect(self._on_repo_download_clicked)
        self.progress = QProgressBar(page)
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel("Nothing is downloaded until you click Download.", page)
        self.cancel_button = QPushButton("Cancel", page)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        repo_row = QHBoxLayout()
        repo_row.addWidget(self.repo_edit, 1)
        repo_row.addWidget(self.repo_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.catalog_table)
        layout.addLayout(repo_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        return page

    # ------------------------------------------------------------------ data in
    def set_entries(self, entries: list[ModelEntry]) -> None:
        self.entries = list(entries)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            ready = "ready" if entry.usable else entry.problem
            cells = (entry.name, entry.kind, entry.family, human_size(entry.size_bytes), entry.source, ready,
                     details(entry))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(entry.problem or entry.path)
                if not entry.usable:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)

        self._on_selection_changed()

    def selected_entry(self) -> ModelEntry | None:
        row = self.table.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _on_selection_changed(self) -> None:
        entry = self.selected_entry()
        self.drop_cache_button.setEnabled(entry is not None and bool(entry.cache_path))

    def _on_drop_cache_clicked(self) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.cache_path:
            self.drop_cache_requested.emit(entry.path)

    def set_download_job(self, job_id: int | None) -> None:
        """The wiring tells the window which job its download became, so Cancel can name it."""
        self._download_job = job_id
        busy = job_id is not None
        self.cancel_button.setEnabled(busy)
        self.repo_button.setEnabled(not busy)
        for button in self.download_buttons.values():
            button.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)
            self.progress_label.setText("Starting…")

    @Slot(object)
    def on_message(self, message) -> None:
        """Worker messages for this window: download progress and endings, import results."""
        job_id = getattr(message, "job_id", None)
        if isinstance(message, DownloadUpdate):
            self.progress.setValue(int(message.progress.fraction * 1000))
            self.progress_label.setText(progress_text(message.progress))
        elif isinstance(message, DownloadFinished):
            self.progress.setValue(1000)
            self.progress_label.setText(f"Downloaded {message.repo_id} ({human_size(message.total_bytes)}), verified.")
            self.set_download_job(None)
            self.refresh_requested.emit()
        elif isinstance(message, ImportFinished):
            self.status.setText(f"{message.summary}: {message.path}")
            self.model_imported.emit(message.name)
            self.refresh_requested.emit()
        elif isinstance(message, (Failed, Cancelled)) and job_id is not None and job_id == self._download_job:
            text = "Download cancelled; what was fetched is kept and resumes next time." \
                if isinstance(message, Cancelled) else f"Download failed: {message.message}"
            self.progress_label.setText(text)
            self.set_download_job(None)
        elif isinstance(message, Failed):
            self.status.setText(f"Import failed: {message.message}")

    # ------------------------------------------------------------------ user actions
    def request_import(self, paths: list[str]) -> None:
        for path in paths:
            self.status.setText(f"Importing {Path(path).name}…")
            self.import_requested.emit(path)

    def _on_import_clicked(self) -> None:
        self.request_import(file_dialog.open_files(self, "Import model files", "", MODEL_FILTER))

    def _on_add_folder_clicked(self) -> None:
        folder = file_dialog.choose_folder(self, "Add a folder of models")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        if folder not in self._folders:
            self._folders.append(folder)
            self.folder_list.addItem(folder)
            self.folders_changed.emit(list(self._folders))

    def _on_remove_folder_clicked(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self._folders.pop(row)
            self.folder_list.takeItem(row)
            self.folders_changed.emit(list(self._folders))

    def _on_repo_download_clicked(self) -> None:
        repo = self.repo_edit.text().strip()
        if not repo or "/" not in repo:
            self.progress_label.setText("Write a repo id as owner/name, e.g. stabilityai/sd-turbo.")
            return
        self.download_requested.emit(repo, "")

    def _on_cancel_clicked(self) -> None:
        if self._download_job is not None:
            self.cancel_requested.emit(self._download_job)
            self.progress_label.setText("Cancelling…")

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.request_import([p for p in paths if Path(p).is_file()])
        event.acceptProposedAction()
