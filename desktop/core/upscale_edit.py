"""The undoable edit an upscale makes: the canvas grows by the factor and the result is a new layer on top."""

from __future__ import annotations

import numpy as np

from desktop.core.document import Document, EditError, Layer, check_canvas_size
from desktop.core.history import Command

TARGETS = ("canvas", "layer", "selection")


def upscale_source(document: Document, target: str) -> tuple[np.ndarray, int, int]:
    """The RGBA pixels to upscale for `target` and their top-left on the canvas; EditError says what is missing.

    The upscaler sees the RGB; the alpha is resized beside it (with_alpha), so a cut-out layer stays cut out."""
    if target == "layer":
        layer = document.active_layer
        if layer is None:
            raise EditError("there is no layer to upscale: choose one in the Layers panel")
        return layer.pixels.copy(), layer.x, layer.y
    if target == "selection":
        if document.selection is None:
            raise EditError("there is no selection: select a region first, or upscale the canvas")
        rect = document.selection
    else:
        rect = document.rect
    return document.composite(rect).copy(), rect.x, rect.y


def with_alpha(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The upscaled RGB with the source's alpha resized to it (Lanczos); opaque sources stay opaque."""
    from PIL import Image

    height, width = rgb.shape[:2]
    if alpha.min() == 255:
        grown = np.full((height, width), 255, np.uint8)
    else:
        grown = np.asarray(Image.fromarray(alpha).resize((width, height), Image.Resampling.LANCZOS))
    return np.dstack([rgb, grown])


def check_upscale(document: Document, scale: int) -> None:
    """Refuse before the job runs when the grown canvas would be too large for this machine."""
    check_canvas_size(document.width * scale, document.height * scale)


class UpscaleLayer(Command):
    """Grow the canvas `scale` times (layers keep their pixels) and add the upscaled pixels as a new top layer."""

    def __init__(self, pixels: np.ndarray, name: str, x: int, y: int, scale: int) -> None:
        self.layer = Layer(name, pixels, x * scale, y * scale)
        self.scale, self.label = scale, f"Upscale {scale}x"

    def do(self, document: Document) -> None:
        self._old_size = (document.width, document.height)
        check_canvas_size(document.width * self.scale, document.height * self.scale)
        document.resize_canvas(document.width * self.scale, document.height * self.scale)
        document.insert_layer(len(document.layers), self.layer)

    def undo(self, document: Document) -> None:
        document.remove_layer(self.layer.id)
        document.resize_canvas(*self._old_size)

    @property
    def nbytes(self) -> int:
        return self.layer.pixels.nbytes
