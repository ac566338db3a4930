"""The gallery's list model: rows come from the index a page at a time, thumbnails load off the GUI thread."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from desktop.core.gallery_index import GalleryEntry, GalleryIndex, SyncResult
from desktop.core.thumbnails import ThumbnailCache

PAGE = 200
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
_KEEP_ICONS = 1500  # about ten screens of thumbnails; older ones are dropped and reloaded from disk


class _Signals(QObject):
    """Carries results from pool threads to the model, which lives in the GUI thread."""

    thumbnail = Signal(str, str)  # image path, thumbnail path ("" when it could not be made)
    synced = Signal(object)  # SyncResult


class _ThumbnailJob(QRunnable):
    def __init__(self, cache: ThumbnailCache, path: str, signals: _Signals) -> None:
        super().__init__()
        self.cache, self.path, self.signals = cache, path, signals

    def run(self) -> None:
        thumb = self.cache.get(self.path)
        self.signals.thumbnail.emit(self.path, str(thumb) if thumb else "")


class _SyncJob(QRunnable):
    def __init__(self, index: GalleryIndex, signals: _Signals) -> None:
        super().__init__()
        self.index, self.signals = index, signals

    def run(self) -> None:
        try:
            result = self.index.sync()
        except Exception as error:  # noqa: BLE001 - reported to the person, never lost in a thread
            result = error
        self.signals.synced.emit(result)


def _placeholder(size: int = 128) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(60, 60, 66))
    painter = QPainter(pixmap)
    painter.setPen(QColor(120, 120, 130))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)


class GalleryModel(QAbstractListModel):
    """Filtered, newest-first rows of the gallery index; only the rows on screen are read or drawn."""

    synced = Signal(object)  # SyncResult, or the exception a sync raised
    filter_changed = Signal(int)  # rows now shown

    def __init__(self, index: GalleryIndex, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gallery, self.thumbnails = index, thumbnails
        self.filters: dict = {"text": "", "model": None, "favourite": None, "since": None}
        self._count = 0
        self._pages: dict[int, list[GalleryEntry]] = {}
        self._icons: OrderedDict[str, QIcon] = OrderedDict()
        self._pending: set[str] = set()
        self._rows: dict[str, int] = {}
        self._placeholder = _placeholder()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._signals = _Signals(self)
        self._signals.thumbnail.connect(self._on_thumbnail)
        self._signals.synced.connect(self._on_synced)
        self.reload()

    # -- rows ----------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._count

    def entry(self, row: int) -> GalleryEntry | None:
        if not 0 <= row < self._count:
            return None
        page = row // PAGE
        if page not in self._pages:
            entries = self.gallery.search(**self.filters, limit=PAGE, offset=page * PAGE)
            self._pages[page] = entries
            for offset, entry in enumerate(entries):
                self._rows[entry.path] = page * PAGE + offset
        entries = self._pages[page]
        return entries[row % PAGE] if row % PAGE < len(entries) else None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        entry = self.entry(index.row()) if index.isValid() else None
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(entry.path)
        if role == Qt.ItemDataRole.DisplayRole:
            return ("★ " if entry.favourite else "") + (f"{entry.seed}" if entry.seed is not None else entry.tool)
        if role == Qt.ItemDataRole.ToolTipRole:
            prompt = entry.prompt if len(entry.prompt) < 400 else entry.prompt[:400] + "…"
            return f"{prompt}\n{entry.model}" if entry.model else prompt or "(no prompt)"
        if role == ENTRY_ROLE:
            return entry
        return None

    def row_of(self, path: str) -> int | None:
        return self._rows.get(path)

    # -- filters and refreshing ----------------------------------------------------------------
    def set_filters(self, **filters) -> None:
        unknown = set(filters) - set(self.filters)
        if unknown:
            raise TypeError(f"unknown gallery filter: {', '.join(sorted(unknown))}")
        self.filters.update(filters)
        self.reload()

    def reload(self) -> None:
        """Re-read the row count; rows and thumbnails load again as they come on screen."""
        self.beginResetModel()
        self._pages.clear()
        self._rows.clear()
        self._count = self.gallery.count(**self.filters)
        self.endResetModel()
        self.filter_changed.emit(self._count)

    def refresh(self) -> None:
        """Scan the outputs folder on a pool thread; `synced` follows and the rows reload."""
        self.pool.start(_SyncJob(self.gallery, self._signals))

    def _on_synced(self, result: SyncResult | Exception) -> None:
        self.reload()
        self.synced.emit(result)

    # -- thumbnails ----------------------------------------------------------------------------
    def _icon(self, path: str) -> QIcon:
        icon = self._icons.get(path)
        if icon is not None:
            self._icons.move_to_end(path)
            return icon
        if path not in self._pending:
            self._pending.add(path)
            self.pool.start(_ThumbnailJob(self.thumbnails, path, self._signals))
        return self._placeholder

    def _on_thumbnail(self, path: str, thumb: str) -> None:
        self._pending.discard(path)
        image = QImage(thumb) if thumb else QImage()
        self._icons[path] = QIcon(QPixmap.fromImage(image)) if not image.isNull() else self._placeholder
        while len(self._icons) > _KEEP_ICONS:
            self._icons.popitem(last=False)
        row = self._rows.get(path)
        if row is not None:
            changed = self.index(row)
            self.dataChanged.emit(changed, changed, [Qt.ItemDataRole.DecorationRole])

    def forget_icon(self, path: str) -> None:
        self._icons.pop(path, None)

    def wait_for_background(self, msecs: int = 10_000) -> bool:
        """Tests and shutdown: let pool jobs finish."""
        return self.pool.waitForDone(msecs)
