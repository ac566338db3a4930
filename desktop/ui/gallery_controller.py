"""Connects the gallery dock to the rest of the window: new images, Reuse settings, Reproduce."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot

from desktop.core.gallery_index import GalleryIndex
from desktop.core.messages import ImageResult
from desktop.core.reproduction import compare_pixels
from desktop.core.thumbnails import ThumbnailCache
from desktop.ui.gallery_dock import GalleryDock


class GalleryController(QObject):
    """Owns the gallery dock; adds each saved image, restores settings, checks reproductions."""

    def __init__(self, window, controller, prompt, paths, outputs_dir, documents=None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.controller = controller
        self.prompt = prompt  # the PromptModel that Reuse settings restores
        self.index = GalleryIndex(paths.data_dir / "gallery.db", outputs_dir)
        self.dock = GalleryDock(self.index, ThumbnailCache(paths.cache_dir / "thumbnails"), window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        window.add_panel(self.dock)
        controller.image_ready.connect(self._on_image_ready)
        self.dock.reuse_settings.connect(self._on_reuse_settings)
        self.dock.reproduce.connect(self._on_reproduce)
        if documents is not None:  # the canvas workspace's document controller
            self.dock.open_on_canvas.connect(documents.open_path)
            self.dock.add_as_layer.connect(documents.add_image_file)
        self.dock.refresh()

    @Slot(object)
    def _on_reuse_settings(self, params) -> None:
        found = self.prompt.set_params(params)
        self.prompt.seed_locked = True  # reuse means this exact seed
        if found:
            self.window.show_status("Settings restored from the gallery")
        else:
            self.window.show_error(f"Settings restored, but the model {params.model!r} is not installed here: "
                                   f"{self.prompt.model or 'no model'} is still selected")

    @Slot(object, str)
    def _on_reproduce(self, params, path: str):
        entry = self.prompt.find_model(params.model)
        if entry is None:
            self.dock.show_error(f"cannot reproduce: the model {params.model!r} is not installed here")
            return
        if params.mode != "txt2img":
            self.dock.show_error("Reproduce works for text-to-image results: this image was made from a source "
                                 "image on the canvas, which the file does not hold")
            return
        if params.controls or params.references or params.regions:
            self.dock.show_error("Reproduce works without steering layers: this image was steered by control, "
                                 "reference or region layers, whose pixels the file does not hold (Reuse settings "
                                 "marks them again on the canvas)")
            return
        handle = self.controller.submit(params, entry, keep=False)  # compared, not saved: no duplicate
        handle.message.connect(lambda message, target=path: self._on_reproduced(target, message))
        self.window.show_status(f"Reproducing {path}…")
        return handle

    def _on_reproduced(self, target: str, message) -> None:
        if isinstance(message, ImageResult):
            self.dock.show_reproduction(compare_pixels(target, message.image.to_pil()))

    @Slot(object)
    def _on_image_ready(self, result) -> None:
        if result.path:
            self.dock.add_image(result.path)
