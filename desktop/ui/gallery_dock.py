"""The gallery dock: thumbnails of every output (newest first), search, filters, details, and actions."""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.draft import has_latents
from desktop.core.gallery_index import GalleryIndex
from desktop.core.metadata import GenerationInfo, read_metadata
from desktop.core.reproduction import PixelMatch
from desktop.core.thumbnails import ThumbnailCache
from desktop.ui import file_dialog
from desktop.ui.gallery_model import ENTRY_ROLE, GalleryModel
from desktop.ui.note_label import NoteLabel

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"
THUMBNAIL = 88  # px: the cache keeps larger ones; the view scales them
DAY = 86_400
DATE_CHOICES = (("Any time", None), ("Today", "today"), ("Last 7 days", 7 * DAY), ("Last 30 days", 30 * DAY),
                ("Last 365 days", 365 * DAY))


def since_for(choice, now: float | None = None) -> float | None:
    now = time.time() if now is None else now
    if choice == "today":
        local = time.localtime(now)
        return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
    return None if choice is None else now - choice


def details_html(info: GenerationInfo, path: str) -> str:
    """The recovered settings, escaped: metadata is untrusted text."""
    e = html.escape
    rows = [f"<b>{e(Path(path).name)}</b>"]
    if not info.found:
        rows.append("<i>no generation data found</i>")
    else:
        rows.append(f"made with <b>{e(info.tool_label)}</b>")
        for label, value in (("Prompt", info.prompt), ("Negative", info.negative_prompt)):
            if value:
                rows.append(f"<b>{label}:</b> {e(value[:4000])}")
        settings = [("Seed", info.seed), ("Steps", info.steps), ("CFG", None if info.cfg_scale is None else f"{info.cfg_scale:g}"),
                    ("Sampler", info.sampler), ("Size", f"{info.width}×{info.height}" if info.width and info.height else None),
                    ("Model", info.model)]
        rows.append(" · ".join(f"{k} <b>{e(str(v))}</b>" for k, v in settings if v is not None))
        for key, value in list(info.extra.items())[:30]:
            text = str(value)
            rows.append(f"<small>{e(key)}: {e(text[:300])}</small>")
    rows.extend(f"<small><i>{e(note)}</i></small>" for note in info.notes if info.found or note != "no generation data found")
    return "<br>".join(rows)


class GalleryDock(QDockWidget):
    """Browse, search and act on generated images; built from the gallery index and thumbnail cache alone."""

    open_on_canvas = Signal(str)
    add_as_layer = Signal(str)
    reuse_settings = Signal(object)  # GenerationParams
    reproduce = Signal(object, str)  # GenerationParams, path of the image to match
    finish_draft = Signal(str)  # path of a TAESD draft to decode with the full VAE (desktop/core/draft.py)

    def __init__(self, index: GalleryIndex, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__("Gallery", parent)
        self.setObjectName("dock-gallery")
        self.gallery = index
        self.model = GalleryModel(index, thumbnails, self)
        self.current_path: str | None = None
        self.current_info: GenerationInfo | None = None
        self._build()
        self.model.synced.connect(self._on_synced)
        self.model.filter_changed.connect(self._on_filter_changed)
        self._on_filter_changed(self.model.rowCount())
        self._refill_models()
        self._update_buttons()

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget()
        body.setAcceptDrops(True)
        body.dragEnterEvent = self._drag_enter
        body.dropEvent = self._drop
        self.search = QLineEdit(placeholderText="Search prompts…", clearButtonEnabled=True)
        self.model_filter = QComboBox()
        self.date_filter = QComboBox()
        for label, value in DATE_CHOICES:
            self.date_filter.addItem(label, value)
        self.favourites_only = QCheckBox("★ only")
        self.count_label = QLabel("")
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.view.setGridSize(QSize(THUMBNAIL + 12, THUMBNAIL + 20))  # three across, two down in a 330 px dock
        self.view.setUniformItemSizes(True)  # lets the view place 10,000 items without measuring each
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.status = NoteLabel()
        self.buttons = {
            "open": QPushButton("Open"), "layer": QPushButton("Add as layer"), "reuse": QPushButton("Reuse settings"),
            "reproduce": QPushButton("Reproduce"), "favourite": QToolButton(text="☆"),
            "delete": QPushButton("Delete"), "inspect": QToolButton(text="Inspect…"), "finish": QPushButton("Finish"),
        }
        self.buttons["finish"].setToolTip("Decode this Fast mode draft with the model's full VAE (no step runs "
                                          "again); the final is a new image and a new layer")
        self.buttons["favourite"].setToolTip("Mark this image as a favourite (★), or unmark it; ★ only lists them")
        self.buttons["open"].setToolTip("Open this image on the canvas (double-click does the same)")
        self.buttons["reproduce"].setToolTip("Generate again with the saved settings and compare the pixels")
        self.buttons["delete"].setToolTip("Move the image to the system trash (Delete)")
        self.buttons["inspect"].setToolTip("Read the settings of any PNG, JPEG or WebP (A1111, ComfyUI, InvokeAI, …)")

        search = QHBoxLayout()
        search.addWidget(self.search, 1)
        search.addWidget(self.count_label)
        filters = QHBoxLayout()
        filters.addWidget(self.model_filter, 1)
        filters.addWidget(self.date_filter)
        filters.addWidget(self.favourites_only)
        rows = [QHBoxLayout() for _ in range(2)]  # two short rows: the dock is narrow (it shares its width with chat)
        for row, names in zip(rows, (("open", "layer", "reuse", "favourite"), ("reproduce", "finish", "delete",
                                                                                "inspect"))):
            for name in names:
                row.addWidget(self.buttons[name])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(search)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        for row in rows:
            layout.addLayout(row)
        layout.addWidget(self.status)
        self.setWidget(body)

        self._search_timer = QTimer(self, singleShot=True, interval=250)  # search as people type, not per key
        self._search_timer.timeout.connect(self._apply_filters)
        self.search.textChanged.connect(self._search_timer.start)
        self.search.returnPressed.connect(self._apply_filters)
        self.model_filter.currentIndexChanged.connect(self._apply_filters)
        self.date_filter.currentIndexChanged.connect(self._apply_filters)
        self.favourites_only.toggled.connect(self._apply_filters)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.doubleClicked.connect(lambda _index: self._on_open())
        self.buttons["open"].clicked.connect(self._on_open)
        self.buttons["layer"].clicked.connect(self._on_add_layer)
        self.buttons["reuse"].clicked.connect(self._on_reuse)
        self.buttons["reproduce"].clicked.connect(self._on_reproduce)
        self.buttons["favourite"].clicked.connect(self._on_favourite)
        self.buttons["delete"].clicked.connect(self._on_delete)
        self.buttons["inspect"].clicked.connect(self._on_inspect_dialog)
        self.buttons["finish"].clicked.connect(lambda: self.current_path and self.finish_draft.emit(self.current_path))
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._on_delete)

    # -- public API for the window -------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up files added or removed outside the app (scans on a background thread)."""
        self.count_label.setToolTip("Looking for new images…")  # on the count, not a line above the buttons
        self.model.refresh()

    def add_image(self, path: str | Path) -> None:
        """Show a newly saved image at once (the window calls this after each save)."""
        self.gallery.add(path)
        self.model.reload()
        self._refill_models()

    def inspect_file(self, path: str | Path) -> GenerationInfo:
        """Show what any image file says about how it was made (dropped or opened, in the gallery or not)."""
        self._show(str(path))
        return self.current_info

    def select_path(self, path: str | Path) -> bool:
        for row in range(self.model.rowCount()):
            if self.model.entry(row).path == str(path):
                self.view.selectionModel().setCurrentIndex(
                    self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
                return True
        return False

    def show_reproduction(self, match: PixelMatch) -> None:
        self.status.setText(match.describe())

    def show_error(self, text: str) -> None:
        self.status.setText(f"⚠ {text}")

    # -- filters -------------------------------------------------------------------------------
    def _apply_filters(self) -> None:
        self._search_timer.stop()
        self.model.set_filters(
            text=self.search.text(),
            model=self.model_filter.currentData(),
            favourite=True if self.favourites_only.isChecked() else None,
            since=since_for(self.date_filter.currentData()),
        )

    def _refill_models(self) -> None:
        current = self.model_filter.currentData()
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItem("All models", None)
        for name in self.gallery.models():
            self.model_filter.addItem(name, name)
        self.model_filter.setCurrentIndex(max(0, self.model_filter.findData(current)) if current else 0)
        self.model_filter.blockSignals(False)

    def _on_filter_changed(self, count: int) -> None:
        self.count_label.setText(f"{count:,} image{'s' if count != 1 else ''}")
        path = self.current_path
        if path and (self.gallery.get(path) is None or not self.select_path(path)):
            self._show(None)  # deleted, or filtered out of view: no button may act on an image not shown

    def _on_synced(self, result) -> None:
        if isinstance(result, Exception):
            self.show_error(f"could not scan the outputs folder: {result}")
            return
        self._refill_models()
        changes = [f"{n} {what}" for n, what in ((result.added, "new"), (result.updated, "changed"), (result.removed, "gone")) if n]
        # said on the count (its tooltip): a status line would push the second row of thumbnails out of view
        self.count_label.setToolTip(("Gallery updated: " + ", ".join(changes)) if changes else "Up to date")

    # -- selection and details -----------------------------------------------------------------
    def _on_current_changed(self, current, _previous) -> None:
        entry = self.model.data(current, ENTRY_ROLE) if current.isValid() else None
        self._show(entry.path if entry else None)

    def _show(self, path: str | None) -> None:
        self.current_path = path
        self.current_info = read_metadata(path) if path else None
        self.details.setHtml(details_html(self.current_info, path) if path else "")
        self.status.setText("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_file = self.current_path is not None
        found = bool(self.current_info and self.current_info.found)
        entry = self.gallery.get(self.current_path) if has_file else None
        for name in ("open", "layer"):
            self.buttons[name].setEnabled(has_file)
        self.buttons["reuse"].setEnabled(found)
        self.buttons["reproduce"].setEnabled(found)
        self.buttons["finish"].setEnabled(has_latents(self.current_path))  # a draft whose latents were kept
        self.buttons["favourite"].setEnabled(entry is not None)
        self.buttons["delete"].setEnabled(entry is not None)
        self.buttons["favourite"].setText("★" if entry and entry.favourite else "☆")

    # -- actions -------------------------------------------------------------------------------
    def _on_open(self) -> None:
        if self.current_path:
            self.open_on_canvas.emit(self.current_path)

    def _on_add_layer(self) -> None:
        if self.current_path:
            self.add_as_layer.emit(self.current_path)

    def _on_reuse(self) -> None:
        if not (self.current_info and self.current_info.found):
            return
        params, dropped = self.current_info.adapt()
        self.reuse_settings.emit(params)
        self.status.setText("Settings restored." + (" Left as they were: " + "; ".join(dropped) if dropped else ""))

    def _on_reproduce(self) -> None:
        if self.current_info and self.current_info.found and self.current_path:
            params, _dropped = self.current_info.adapt()
            self.status.setText("Generating again to compare…")
            self.reproduce.emit(params, self.current_path)

    def _on_favourite(self) -> None:
        entry = self.gallery.get(self.current_path) if self.current_path else None
        if entry is None:
            return
        self.gallery.set_favourite(entry.path, not entry.favourite)
        path = entry.path
        self.model.reload()
        if not self.select_path(path):
            self._show(path)
        self._update_buttons()

    def _on_delete(self) -> None:
        entry = self.gallery.get(self.current_path) if self.current_path else None
        if entry is None:
            return
        row = self.model.row_of(entry.path) or 0
        try:
            self.gallery.delete(entry.path)
        except OSError as error:
            self.show_error(str(error))
            return
        self.model.forget_icon(entry.path)
        self.model.reload()
        self._refill_models()
        name = Path(entry.path).name
        if self.model.rowCount():
            self.view.selectionModel().setCurrentIndex(
                self.model.index(min(row, self.model.rowCount() - 1)), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        else:
            self._show(None)
        self.status.setText(f"Moved {name} to the trash.")

    def _on_inspect_dialog(self) -> None:
        path = file_dialog.open_file(self, "Read the settings of an image", "", IMAGE_FILTER)
        if path:
            self.inspect_file(path)

    def _drag_enter(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def _drop(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.inspect_file(files[0])
            event.acceptProposedAction()
