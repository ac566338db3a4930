"""The thread-safe RgbImage as Qt's QImage, for painting."""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.core.messages import RgbImage


def to_qimage(image: RgbImage) -> QImage:
    # QImage wraps the buffer without copying; copy() detaches it so the bytes may go away
    return QImage(image.data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888).copy()

