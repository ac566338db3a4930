"""The thread-safe RgbImage as Qt's QImage, for painting."""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.core.messages import RgbImage


def to_qimage(image: RgbImage) -> QImage:
    # QImage wraps the buffer without copying; copy() detaches it so the bytes may go away
    return QImage(image.data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888).copy()



def rgba_to_qimage(pixels) -> QImage:
    """An H x W x 4 uint8 array (straight alpha) as a QImage for painting."""
    height, width = pixels.shape[:2]
    data = pixels.tobytes()
    return QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
