"""Settings > Model Folders: other apps' model folders found on this computer, and the ones the user added.

One row per folder: ticked folders are scanned (their models join every picker), unticked ones are
kept in the list. A folder that is not there (an unplugged drive) is shown as offline, greyed, and
keeps its tick: its models come back when the drive does. Nothing is copied or changed anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.core.model_folders import LinkedFolder, detect_folders, identify
from desktop.ui import file_dialog

COLUMNS = ("Folder", "App", "Holds", "State")
OFFLINE = "offline (not found)"
OFFLINE_TIP = "The folder is not there now (an unplugged drive?). It stays in the list; its models come back with it."


@dataclass
class FolderRow:
    """One folder in the list: ticked or not, found by detection or added by the user."""

    path: str
    on: bool
    detected: LinkedFolder | None = None


def _describe(row: FolderRow) -> tuple[str, str, str]:
    """(app, holds, state) for a row."""
    if not Path(row.path).is_dir():
        app = row.detected.app if row.detected else ""
        return app, "", OFFLINE
    linked = row.detected or identify(row.path)
    app = linked.app if linked else "Atelier-style folder"
    holds = ", ".join(linked.kinds()) if linked else "models, checkpoints/, loras/, vae/…"
    state = ("used" if row.on else ("found: tick to use" if row.detected else "off"))
    if linked is not None and linked.note:
        state += f" · {linked.note}"
    return app, holds or "nothing yet", state


class ModelFoldersDialog(QDialog):
    """Lists, adds, removes and toggles model folders; says `changed(on, off)` after every change."""

    changed = Signal(list, list)  # folders to scan, folders kept listed but off

    def __init__(self, on: list[str], off: list[str], detected: list[LinkedFolder] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model Folders")
        self.resize(1000, 380)
        self.rows: list[FolderRow] = []
        self._filling = False
        self.detected = detect_folders() if detected is None else detected
        by_path = {d.path: d for d in self.detected}
        for path in on:
            self.rows.append(FolderRow(path, True, by_path.get(path)))
        for path in off:
            if path not in on:
                self.rows.append(FolderRow(path, False, by_path.get(path)))
        listed = {row.path for row in self.rows}
        self.rows += [FolderRow(d.path, False, d) for d in self.detected if d.path not in listed]
        intro = QLabel("Atelier uses the models where they are: nothing is copied, moved or changed. "
                       "Tick a folder to use its models; AUTOMATIC1111, Forge, SD.Next, ComfyUI, InvokeAI, "
                       "LM Studio, Ollama, GPT4All and Jan folders are recognised by their layout.", self)
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("model-folders")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long paths keep their start and end
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 320)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Add folder…", self)
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Take a folder you added off the list (its files stay where they are)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.accept)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.file_dialog: QFileDialog | None = None
        self._fill()

    # ------------------------------------------------------------------ the list
    def _fill(self) -> None:
        self._filling = True
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            app, holds, state = _describe(row)
            first = QTableWidgetItem(row.path)
            first.setFlags(first.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            first.setCheckState(Qt.CheckState.Checked if row.on else Qt.CheckState.Unchecked)
            first.setToolTip(row.path)
            cells = (first, QTableWidgetItem(app), QTableWidgetItem(holds), QTableWidgetItem(state))
            for column, item in enumerate(cells):
                if state == OFFLINE:
                    item.setForeground(Qt.GlobalColor.gray)
                    item.setToolTip(OFFLINE_TIP)
                elif column == 3:
                    item.setToolTip(state)
                self.table.setItem(index, column, item)
        self._filling = False
        self._update_buttons()

    def row_for(self, path: str) -> int:
        return next((i for i, row in enumerate(self.rows) if row.path == path), -1)

    def state_of(self, path: str) -> str:
        index = self.row_for(path)
        return self.table.item(index, 3).text() if index >= 0 else ""

    def _update_buttons(self) -> None:
        index = self.table.currentRow()
        self.remove_button.setEnabled(0 <= index < len(self.rows) and self.rows[index].detected is None)

    def _emit(self) -> None:
        on = [row.path for row in self.rows if row.on]
        off = [row.path for row in self.rows if not row.on and row.detected is None]
        self.changed.emit(on, off)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        row = self.rows[item.row()]
        row.on = item.checkState() == Qt.CheckState.Checked
        self._fill()
        self._emit()

    # ------------------------------------------------------------------ adding and removing
    def choose_folder(self) -> QFileDialog:
        """A Qt folder dialog (not the platform's, so it looks and behaves the same everywhere)."""
        dialog = file_dialog.folder_dialog(self, "Add a folder of models")
        dialog.fileSelected.connect(self.add_folder)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def add_folder(self, folder: str) -> None:
        if not folder:
            return
        folder = str(Path(folder))
        index = self.row_for(folder)
        if index >= 0:
            self.rows[index].on = True
        else:
            self.rows.append(FolderRow(folder, True, None))
        linked = identify(folder)
        self.status.setText(f"Added {folder}" + (f" ({linked.app})" if linked else ""))
        self._fill()
        self._emit()

    def remove_selected(self) -> None:
        index = self.table.currentRow()
        if 0 <= index < len(self.rows) and self.rows[index].detected is None:
            removed = self.rows.pop(index)
            self.status.setText(f"Removed {removed.path} from the list (nothing was deleted)")
            self._fill()
            self._emit()
