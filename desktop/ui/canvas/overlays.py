"""What the canvas draws over the picture: checkerboard, selection ants, brush outline, pixel grid, labels.

Everything here paints in widget coordinates with cosmetic one-pixel pens, so lines stay sharp
at any zoom.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen

_checker: QImage | None = None
GRID_ZOOM = 12.0  # from this zoom on, a faint line between pixels helps placing things exactly


def checker_tile() -> QImage:
    global _checker
    if _checker is None:
        tile = QImage(16, 16, QImage.Format.Format_RGB32)
        tile.fill(QColor("#cfcfcf"))
        painter = QPainter(tile)
        painter.fillRect(0, 0, 8, 8, QColor("#9f9f9f"))
        painter.fillRect(8, 8, 8, 8, QColor("#9f9f9f"))
        painter.end()
        _checker = tile
    return _checker


def draw_checkerboard(painter: QPainter, area: QRectF) -> None:
    """Transparent areas show as the usual grey checkerboard (fixed to the screen, as in Krita)."""
    painter.fillRect(area, QBrush(checker_tile()))


def draw_ants(painter: QPainter, rect: QRectF, phase: float, color: QColor | None = None) -> None:
    """Marching ants: a light line under a dark dashed one whose dashes move with `phase`."""
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
    painter.drawRect(rect)
    dashed = QPen(color or QColor(0, 0, 0, 230), 1, Qt.PenStyle.CustomDashLine)
    dashed.setDashPattern([4, 4])
    dashed.setDashOffset(phase)
    painter.setPen(dashed)
    painter.drawRect(rect)
    painter.restore()


def draw_brush_outline(painter: QPainter, centre: QPointF, diameter: float) -> None:
    """The brush's footprint at the pointer; a small cross when it would be too small to see."""
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    radius = diameter / 2.0
    for color, grow in ((QColor(0, 0, 0, 160), 1.0), (QColor(255, 255, 255, 220), 0.0)):
        painter.setPen(QPen(color, 1))
        if radius >= 3:
            painter.drawEllipse(centre, radius + grow, radius + grow)
        else:
            painter.drawLine(centre + QPointF(-5 - grow, 0), centre + QPointF(5 + grow, 0))
            painter.drawLine(centre + QPointF(0, -5 - grow), centre + QPointF(0, 5 + grow))
    painter.restore()


def draw_pixel_grid(painter: QPainter, visible: QRectF, origin: QPointF, zoom: float) -> None:
    """Lines between pixels inside `visible` (widget coordinates) at high zoom."""
    if zoom < GRID_ZOOM:
        return
    painter.save()
    painter.setPen(QPen(QColor(128, 128, 128, 60), 1))
    first_x = math.ceil((visible.left() - origin.x()) / zoom)
    last_x = math.floor((visible.right() - origin.x()) / zoom)
    for column in range(first_x, last_x + 1):
        x = origin.x() + column * zoom
        painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))
    first_y = math.ceil((visible.top() - origin.y()) / zoom)
    last_y = math.floor((visible.bottom() - origin.y()) / zoom)
    for row in range(first_y, last_y + 1):
        y = origin.y() + row * zoom
        painter.drawLine(QPointF(visible.left(), y), QPointF(visible.right(), y))
    painter.restore()


def draw_label(painter: QPainter, anchor: QPointF, text: str) -> None:
    """A small dark tag with light text (sizes while dragging), kept inside the widget."""
    painter.save()
    font = QFont(painter.font())
    font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
    painter.setFont(font)
    metrics = painter.fontMetrics()
    width, height = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
    bounds = painter.device().rect() if painter.device() is not None else None
    x, y = anchor.x() + 8, anchor.y() + 8
    if bounds is not None:
        x = min(max(2, x), bounds.width() - width - 2)
        y = min(max(2, y), bounds.height() - height - 2)
    box = QRectF(x, y, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(20, 20, 24, 200))
    painter.drawRoundedRect(box, 3, 3)
    painter.setPen(QColor("#f0f0f2"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
