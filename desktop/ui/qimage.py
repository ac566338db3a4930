"""Conversions between the thread-safe RgbImage and Qt's QImage."""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.core.messages import RgbImage


def to_qimage(image: RgbImage) -> QImage:
    # QImage wraps the buffer without copying; copy() detaches it so the bytes may go away
    return QImage(image.data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888).copy()


def from_qimage(image: QImage) -> RgbImage:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    row = width * 3
    stride = rgb.bytesPerLine()
    raw = bytes(rgb.constBits())
    data = raw if stride == row else b"".join(raw[y * stride : y * stride + row] for y in range(height))
    return RgbImage(width, height, data)
