"""Shared pieces of the canvas UI tests: pointer positions and drags, test pictures."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt


def at(canvas, x: float, y: float) -> QPoint:
    """The widget position of canvas pixel (x, y)'s centre."""
    return canvas.image_to_widget(QRectF(x + 0.5, y + 0.5, 0, 0)).topLeft().toPoint()


def corner(canvas, x: float, y: float) -> QPoint:
    """The widget position of the grid point between canvas pixels (the top-left corner of pixel x, y)."""
    return canvas.image_to_widget(QRectF(x, y, 0, 0)).topLeft().toPoint()


def drag(qtbot, canvas, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier,
         where=at) -> None:
    """Press at the first canvas point, move through the others, release at the last."""
    first, *rest = [where(canvas, x, y) for x, y in points]
    qtbot.mousePress(canvas, button, modifier, first)
    for point in rest:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, button, modifier, rest[-1] if rest else first)


def gradient(width: int = 64, height: int = 64) -> np.ndarray:
    """An opaque RGBA picture where every pixel differs from its neighbours."""
    ys, xs = np.mgrid[0:height, 0:width]
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., 0] = (xs * 4) % 256
    rgba[..., 1] = (ys * 4) % 256
    rgba[..., 2] = (xs * 7 + ys * 3) % 256
    rgba[..., 3] = 255
    return rgba


def write_png(path, rgba: np.ndarray):
    Image.fromarray(rgba).save(path)
    return path


def canvas_pixel(canvas, x: int, y: int) -> tuple[int, int, int, int]:
    color = canvas.image.pixelColor(x, y)
    return color.red(), color.green(), color.blue(), color.alpha()


__all__ = ["at", "corner", "drag", "gradient", "write_png", "canvas_pixel", "QPointF"]
