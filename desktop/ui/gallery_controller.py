"""Connects the gallery dock to the rest of the window: new images, Reuse settings, Reproduce."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot

from desktop.core.gallery_index import GalleryIndex
from desktop.core.models import ModelEntry
from desktop.core.reproduction import compare_pixels
from desktop.core.thumbnails import ThumbnailCache
from desktop.ui.gallery_dock import GalleryDock


class GalleryController(QObject):
    """Owns the gallery dock; adds each saved image, restores settings, checks reproductions."""

    def __init__(self, window, controller, paths, outputs_dir, documents=None, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.controller = controller
        self.index = GalleryIndex(paths.data_dir / "gallery.db", outputs_dir)
        self.dock = GalleryDock(self.index, ThumbnailCache(paths.cache_dir / "thumbnails"), window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        window.add_panel(self.dock)
        self.reproducing: dict[int, str] = {}  # job id -> saved image it should match
        controller.image_ready.connect(self._on_image_ready)
        self.dock.reuse_settings.connect(self._on_reuse_settings)
        self.dock.reproduce.connect(self._on_reproduce)
        if documents is not None:  # the canvas workspace's document controller
            self.dock.open_on_canvas.connect(documents.open_path)
            self.dock.add_as_layer.connect(documents.add_image_file)
        self.dock.refresh()

    @Slot(object)
    def _on_reuse_settings(self, params) -> None:
        self.window.prompt_panel.set_params(params)
        self.window.prompt_panel.lock.setChecked(True)  # reuse means this exact seed
        self.window.show_status("Settings restored from the gallery")

    @Slot(object, str)
    def _on_reproduce(self, params, path: str) -> None:
        entry = entry_for(self.window.prompt_panel, params.model)
        if entry is None:
            self.dock.show_error(f"cannot reproduce: the model {params.model!r} is not installed here")
            return
        if params.mode != "txt2img":
            self.dock.show_error("Reproduce works for text-to-image results: this image was made from a source "
                                 "image on the canvas, which the file does not hold")
            return
        job_id = self.controller.submit(params, entry, keep=False)  # compared, not saved: no duplicate
        self.reproducing[job_id] = path
        self.window.show_status(f"Reproducing {path}…")

    @Slot(object)
    def _on_image_ready(self, result) -> None:
        if result.path:
            self.dock.add_image(result.path)
        target = self.reproducing.pop(result.job_id, None)
        if target is not None:
            self.dock.show_reproduction(compare_pixels(target, result.image.to_pil()))


def entry_for(panel, name: str) -> ModelEntry | None:
    for index in range(panel.model.count()):
        if panel.model.itemData(index).name == name:
            return panel.model.itemData(index)
    return None
