"""The open document and its files: new, open, paste and drop, save, export, recent files,
autosave and crash recovery, and the unsaved-changes question on close.

Every question to the user goes through a replaceable `ask_*` attribute, so tests (and scripts)
answer without a modal dialog.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.core.document import Document, EditError, Layer
from desktop.core.edits import AddLayer
from desktop.core.image_io import ImageLoadError, check_image_size, load_image
from desktop.core.openraster import ProjectError, load_ora, save_ora
from desktop.core.recovery import Autosaver, discard_leftover, find_leftovers, restore
from desktop.core.settings import Settings
from desktop.ui.canvas import dialogs
from desktop.ui.canvas.export import export_flattened
from desktop.ui.canvas.raster import qimage_to_rgba

AUTOSAVE_CHECK_MS = 5000  # how often to ask the autosaver; it decides from the interval in Settings


class DocumentController(QObject):
    """Owns which document is open and everything that reads or writes it as a file."""

    document_changed = Signal(object)  # Document, or None
    status = Signal(str)
    error = Signal(str)
    recent_changed = Signal()

    def __init__(self, window: QWidget, settings: Settings, settings_path: Path, recovery_dir: Path) -> None:
        super().__init__(window)
        self.window, self.settings, self.settings_path = window, settings, Path(settings_path)
        self.recovery_dir = Path(recovery_dir)
        self.document: Document | None = None
        self.autosaver: Autosaver | None = None
        self._reported_error: str | None = None
        self._close_approved = False
        self.ask_save_changes = lambda title: dialogs.ask_save_changes(self.window, title)
        self.ask_open_path = lambda: dialogs.ask_open_path(self.window, self._folder())
        self.ask_project_path = lambda suggestion: dialogs.ask_project_path(self.window, suggestion)
        self.ask_export_path = lambda suggestion: dialogs.ask_export_path(self.window, suggestion)
        self.ask_restore = lambda leftover: dialogs.ask_restore(self.window, leftover)
        self.ask_new_canvas = lambda width, height: dialogs.NewCanvasDialog(width, height, self.window).choice()
        self.timer = QTimer(self, interval=AUTOSAVE_CHECK_MS)
        self.timer.timeout.connect(self.autosave_tick)
        self.timer.start()
        window.installEventFilter(self)

    # ------------------------------------------------------------------ the open document
    def set_document(self, document: Document | None, leftover=None) -> None:
        if self.autosaver is not None:
            self.autosaver.discard()  # the old document was saved or given up: its safety copy goes
        self.document = document
        if document is not None:
            if self.autosaver is None:
                self.autosaver = Autosaver(document, self.recovery_dir, self.settings.autosave_minutes)
            else:
                self.autosaver.set_document(document)
            if leftover is not None:
                self.autosaver.adopt(leftover)
        self.document_changed.emit(document)

    def ensure_document(self, width: int, height: int) -> Document:
        """The open document, or a new empty (transparent) one of this size for a first generation."""
        if self.document is None:
            self.set_document(Document(width, height))
        return self.document

    def maybe_save(self) -> bool:
        """Before the document is replaced: True when its changes are saved or given up."""
        if self.document is None or not self.document.modified:
            return True
        answer = self.ask_save_changes(self.document.title)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_document(self, width: int | None = None, height: int | None = None, color=(255, 255, 255, 255)) -> bool:
        if width is None or height is None:
            choice = self.ask_new_canvas(self.settings.width, self.settings.height)
            if choice is None:
                return False
            width, height, color = choice
        if not self.maybe_save():
            return False
        try:
            document = Document.blank(width, height, color)
        except EditError as error:
            self.error.emit(str(error))
            return False
        self.set_document(document)
        self.status.emit(f"New canvas, {width} × {height}")
        return True

    def open_path(self, path: str | Path | None = None) -> bool:
        """Open an image (as a one-layer canvas) or an .ora project; a bad file changes nothing."""
        path = path or self.ask_open_path()
        if not path:
            return False
        path = Path(path)
        try:
            if path.suffix.lower() == ".ora":
                document = load_ora(path)
            else:
                document = Document.from_pixels(load_image(path), name=path.stem, path=path)
        except (ProjectError, ImageLoadError, EditError) as error:
            self.error.emit(str(error))
            return False
        except MemoryError:
            self.error.emit(f"Not enough free memory to open {path.name}; close other programs or scale it down")
            return False
        if not self.maybe_save():
            return False
        self.set_document(document)
        self.remember(path)
        self.status.emit(f"Opened {path.name} ({document.width} × {document.height}, {len(document.layers)} "
                         f"layer{'s' if len(document.layers) != 1 else ''})")
        if document.notes:  # what the file holds that a save would not keep: said now, before any save
            self.error.emit(f"{path.name}: " + "; ".join(document.notes))
        return True

    # ------------------------------------------------------------------ pictures from outside
    def add_image_layer(self, pixels: np.ndarray, name: str, centre: QPointF | None = None) -> bool:
        """A pasted or dropped picture: a new layer (or, with nothing open, a new canvas)."""
        try:
            check_image_size(pixels.shape[1], pixels.shape[0], name)
        except ImageLoadError as error:
            self.error.emit(str(error))
            return False
        document = self.document
        if document is None:
            self.set_document(Document.from_pixels(pixels, name))
            return True
        height, width = pixels.shape[:2]
        if centre is not None:
            x, y = math.floor(centre.x()) - width // 2, math.floor(centre.y()) - height // 2  # centred on the pixel
        elif document.selection is not None:
            x, y = document.selection.x, document.selection.y
        else:
            x, y = (document.width - width) // 2, (document.height - height) // 2
        try:
            document.history.do(AddLayer(Layer(name, pixels, x, y), label=f"Paste {name}"))
        except EditError as error:
            self.error.emit(str(error))
            return False
        return True

    def paste(self) -> bool:
        """Ctrl+V: an image on the clipboard, or image files copied in a file manager."""
        mime = QGuiApplication.clipboard().mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime is not None else []
        if paths:
            return self.drop_files(paths)
        if mime is not None and mime.hasImage():
            return self.paste_image(QImage(mime.imageData()))
        self.error.emit("The clipboard holds no image: copy one (or an image file) first")
        return False

    def paste_image(self, image: QImage, centre: QPointF | None = None) -> bool:
        if image.isNull():
            self.error.emit("The pasted image is empty or in a format Atelier cannot read")
            return False
        return self.add_image_layer(qimage_to_rgba(image), "Pasted", centre)

    def add_image_file(self, path: str | Path) -> bool:
        """An image file as a new layer in the middle of the canvas (opened as the canvas when none is)."""
        return self.drop_files([str(path)])

    def drop_files(self, paths: list[str], centre: QPointF | None = None) -> bool:
        """Dropped files: a project opens; an image opens, or becomes a layer where it was dropped."""
        added = False
        for name in paths:
            path = Path(name)
            if path.suffix.lower() == ".ora" or self.document is None:
                return self.open_path(path) or added
            try:
                added = self.add_image_layer(load_image(path), path.stem, centre) or added
            except ImageLoadError as error:
                self.error.emit(str(error))
        return added

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        document = self.document
        if document is None:
            self.error.emit("There is nothing to save yet: open or generate an image first")
            return False
        if document.path is None or document.path.suffix.lower() != ".ora":
            return self.save_as()  # an opened PNG is not overwritten with a flattened copy: save a project
        return self._write(document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        document = self.document
        if document is None:
            self.error.emit("There is nothing to save yet: open or generate an image first")
            return False
        path = path or self.ask_project_path(dialogs.suggested_name(document.path, document.title, ".ora", self._folder()))
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != ".ora":
            path = path.with_name(path.name + ".ora")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            save_ora(self.document, path)
        except OSError as error:
            self.error.emit(f"Could not save {path}: {error.strerror or error}. Your work is still open: "
                            "save it somewhere else (File > Save As)")
            return False
        self.document.mark_saved(path)
        if self.autosaver is not None:
            self.autosaver.discard()
        self.remember(path)
        self.status.emit(f"Saved {path.name}")
        return True

    def export(self, path: str | Path | None = None) -> bool:
        """The flattened picture as PNG, JPEG or WebP, with the settings of the generation on top."""
        document = self.document
        if document is None:
            self.error.emit("There is nothing to export yet: open or generate an image first")
            return False
        path = path or self.ask_export_path(dialogs.suggested_name(document.path, document.title, ".png", self._folder()))
        if not path:
            return False
        try:
            from desktop.core.metadata.provenance import signing_folder  # Settings > Sign Images with C2PA

            written = export_flattened(document, Path(path),
                                       signing_folder(self.settings.write_c2pa, self.settings_path.parent))
        except (OSError, ValueError) as error:
            self.error.emit(f"Could not export {Path(path).name}: {getattr(error, 'strerror', None) or error}")
            return False
        self.status.emit(f"Exported {written.name}")
        return True

    def remember(self, path: Path) -> None:
        self.settings.add_recent(str(path))
        try:
            self.settings.save(self.settings_path)
        except OSError:
            pass  # the list is a convenience: not worth an error
        self.recent_changed.emit()

    def _folder(self) -> Path:
        if self.document is not None and self.document.path is not None:
            return self.document.path.parent
        recent = [Path(p) for p in self.settings.recent_files]
        return recent[0].parent if recent else Path.home()

    # ------------------------------------------------------------------ never losing work
    def autosave_tick(self) -> None:
        if self.autosaver is None or self.document is None:
            return
        self.autosaver.interval_minutes = self.settings.autosave_minutes
        self.autosaver.tick()
        problem = self.autosaver.last_error
        if problem and problem != self._reported_error:
            self.error.emit(problem)
        self._reported_error = problem

    def offer_restore(self) -> bool:
        """At start: offer each autosave a crashed or killed session left behind; True if one was restored."""
        for leftover in find_leftovers(self.recovery_dir):
            answer = self.ask_restore(leftover)
            if answer == "discard":
                discard_leftover(leftover)
            elif answer == "restore":
                try:
                    document = restore(leftover)
                except ProjectError as error:
                    self.error.emit(f"{error}. The file is kept in {leftover.project.parent}")
                    continue
                if not self.maybe_save():
                    return False
                self.set_document(document, leftover)
                self.status.emit(f"Restored {leftover.title}: save it to keep it")
                return True
        return False

    def shutdown(self) -> None:
        self.timer.stop()
        if self.autosaver is not None:
            self.autosaver.wait()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.window and event.type() == QEvent.Type.Close:
            if self.document is not None and self.document.modified and not self._close_approved:
                event.ignore()
                self._ask_before_closing()
                return True
            self._close_approved = False
            self.timer.stop()
            if self.autosaver is not None:
                self.autosaver.discard()  # a clean close: nothing to recover
        return False

    def _ask_before_closing(self) -> None:
        # Not modal: the question waits without blocking (a script or test closing the window is not stuck)
        box = dialogs.save_changes_box(self.window, self.document.title)

        def answered(_result: int) -> None:
            answer = dialogs.ANSWERS.get(box.standardButton(box.clickedButton()), "cancel")
            if answer == "cancel" or (answer == "save" and not self.save()):
                return
            self._close_approved = True
            self.window.close()

        box.finished.connect(answered)
        box.open()
        self.close_question: QMessageBox = box

