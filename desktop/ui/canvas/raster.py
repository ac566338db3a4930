"""Moving pixels between the core's numpy arrays and Qt images, a rectangle at a time."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPixmap

from desktop.core.geometry import Rect

DISPLAY_FORMAT = QImage.Format.Format_ARGB32_Premultiplied  # the raster engine's fast path
MASK_TINT = (255, 48, 96)  # a pinkish red, as Krita and Photoshop's quick mask
MASK_TINT_ALPHA = 0.45


def _rows(image: QImage) -> np.ndarray:
    """A writable H x W x 4 view of a 32-bit QImage's bytes (B, G, R, A on little-endian machines)."""
    stride = image.bytesPerLine()
    raw = np.frombuffer(image.bits(), np.uint8).reshape(image.height(), stride)
    return raw[:, : image.width() * 4].reshape(image.height(), image.width(), 4)


def blank_display(width: int, height: int) -> QImage:
    image = QImage(width, height, DISPLAY_FORMAT)
    image.fill(0)
    return image


def write_rgba(image: QImage, rgba: np.ndarray, rect: Rect) -> None:
    """Put straight-alpha RGBA pixels into a display image at `rect` (premultiplied, BGRA)."""
    alpha = rgba[..., 3:4].astype(np.uint16)
    premultiplied = (rgba[..., :3].astype(np.uint16) * alpha + 127) // 255
    target = _rows(image)[rect.slices()]
    target[..., 0] = premultiplied[..., 2]
    target[..., 1] = premultiplied[..., 1]
    target[..., 2] = premultiplied[..., 0]
    target[..., 3] = rgba[..., 3]


def write_mask_tint(image: QImage, mask: np.ndarray, rect: Rect) -> None:
    """Show mask values (255 = repaint) at `rect` as a translucent tint."""
    alpha = np.rint(mask.astype(np.float32) * MASK_TINT_ALPHA).astype(np.uint16)
    target = _rows(image)[rect.slices()]
    for channel, value in zip((2, 1, 0), MASK_TINT):
        target[..., channel] = (alpha * value + 127) // 255
    target[..., 3] = alpha


def rgba_image(rgba: np.ndarray) -> QImage:
    """A QImage (its own copy) of a straight-alpha RGBA array."""
    height, width = rgba.shape[:2]
    data = np.ascontiguousarray(rgba)
    return QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """H x W x 4 uint8 straight-alpha pixels of any QImage (a pasted or dropped picture)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    stride = rgba.bytesPerLine()
    raw = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), stride)
    return raw[:, : rgba.width() * 4].reshape(rgba.height(), rgba.width(), 4).copy()


def thumbnail(rgba: np.ndarray, side: int) -> QPixmap:
    """A small picture of a layer for the layers panel, at most `side` pixels either way."""
    picture = Image.fromarray(rgba)
    picture.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return QPixmap.fromImage(rgba_image(np.asarray(picture)))
