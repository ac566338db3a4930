"""The document as Qt images: its composite and its mask tint, redrawn one dirty rectangle at a time.

A full composite of a 2048 x 2048 canvas takes over half a second, so a brush dab must only
recomposite the few pixels it touched; compositing waits until the next paint (or a read), so
many changes in one event-loop turn (a history jump, a long stroke) cost one pass.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QImage

from desktop.core.document import Change, Document
from desktop.core.geometry import Rect
from desktop.ui.canvas.raster import blank_display, write_mask_tint, write_rgba


def _union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    return a.union(b)


class DocumentDisplay:
    """Keeps a composite QImage and a mask-tint QImage of one document current."""

    def __init__(self, on_dirty: Callable[[Rect | None], None]) -> None:
        self._on_dirty = on_dirty  # the canvas repaints this area (None: everything)
        self.document: Document | None = None
        self._image: QImage | None = None
        self._tint: QImage | None = None
        self._dirty: Rect | None = None
        self._mask_dirty: Rect | None = None
        self._mask_shown = False
        self._known: dict[str, tuple] = {}

    def set_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
        self.document = document
        if document is not None:
            document.changed.connect(self._on_change)
        self._rebuild()

    # ------------------------------------------------------------------ reading
    def image(self) -> QImage | None:
        """The visible picture, up to date."""
        self.flush()
        return self._image

    def tint(self) -> QImage | None:
        """The mask as a translucent tint, or None while the mask is empty."""
        self.flush()
        return self._tint if self._mask_shown else None

    # ------------------------------------------------------------------ keeping current
    def _rebuild(self) -> None:
        document = self.document
        if document is None:
            self._image = self._tint = None
            self._dirty = self._mask_dirty = None
            self._known = {}
            self._mask_shown = False
        else:
            self._image = blank_display(document.width, document.height)
            self._tint = blank_display(document.width, document.height)
            self._dirty = self._mask_dirty = document.rect
            self._known = self._signatures()
        self._on_dirty(None)

    def _signatures(self) -> dict[str, tuple]:
        """What decides how each layer looks on the canvas (not its name)."""
        return {
            layer.id: (index, layer.x, layer.y, layer.width, layer.height, layer.visible, layer.opacity, layer.blend,
                       id(layer.pixels))
            for index, layer in enumerate(self.document.layers)
        }

    def _on_change(self, change: Change) -> None:
        if change.kind == "size":
            self._rebuild()
        elif change.kind == "pixels":
            self._mark(change.rect or self.document.rect)
        elif change.kind == "mask":
            area = (change.rect or self.document.rect).intersect(self.document.rect)
            if area is not None:
                self._mask_dirty = _union(self._mask_dirty, area)
                self._on_dirty(area)
        elif change.kind == "layers":
            now = self._signatures()
            changed: Rect | None = None
            for layer_id in set(now) | set(self._known):
                before, after = self._known.get(layer_id), now.get(layer_id)
                if before != after:
                    for signature in (before, after):
                        if signature is not None:
                            changed = _union(changed, Rect(signature[1], signature[2], signature[3], signature[4]))
            self._known = now
            if changed is not None:
                self._mark(changed)
        elif change.kind == "selection":
            self._on_dirty(None)

    def _mark(self, rect: Rect) -> None:
        area = rect.intersect(self.document.rect)
        if area is not None:
            self._dirty = _union(self._dirty, area)
            self._on_dirty(area)

    def flush(self) -> None:
        """Composite what changed since the last flush."""
        document = self.document
        if document is None:
            return
        if self._dirty is not None:
            area, self._dirty = self._dirty, None
            write_rgba(self._image, document.composite(area), area)
        if self._mask_dirty is not None:
            area, self._mask_dirty = self._mask_dirty, None
            part = document.mask[area.slices()]
            write_mask_tint(self._tint, part, area)
            if part.any():
                self._mask_shown = True
            elif self._mask_shown:
                self._mask_shown = bool(document.mask.any())
