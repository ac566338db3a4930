"""The canvas view: shows the picture, live previews inside their target area, zoom and pan."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import QWidget

MIN_ZOOM = 1 / 32
MAX_ZOOM = 64.0
WHEEL_STEP = 1.25


class CanvasView(QWidget):
    """Paints one image (the flattened canvas) with zoom, pan and an optional live preview on top."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.image: QImage | None = None
        self.preview: QImage | None = None
        self.preview_rect: QRectF | None = None  # in image coordinates
        self.hint = ""
        self.zoom = 1.0
        self.offset = QPointF(0, 0)  # widget position of the image's top-left corner
        self._fit_pending = True
        self._space_down = False
        self._pan_from: QPointF | None = None
        self._checker: QImage | None = None

    # ------------------------------------------------------------------ content
    def set_image(self, image: QImage | None, fit: bool = False) -> None:
        first = self.image is None
        size_changed = image is not None and self.image is not None and image.size() != self.image.size()
        self.image = image
        self.preview = None
        self.preview_rect = None
        if first or size_changed or fit:
            self.fit()
        self.update()

    def set_preview(self, image: QImage, target: QRectF | None = None) -> None:
        """Draw a (small) preview stretched over `target`, or over the whole canvas."""
        self.preview = image
        if target is None:
            base = self.image.size() if self.image is not None else image.size() * 8
            target = QRectF(0, 0, base.width(), base.height())
        first_preview = self.image is None and self.preview_rect != target
        self.preview_rect = target
        if first_preview:
            self.fit()
        self.update()

    def clear_preview(self) -> None:
        self.preview = None
        self.preview_rect = None
        self.update()

    def set_hint(self, text: str) -> None:
        self.hint = text
        self.update()

    # ------------------------------------------------------------------ zoom and pan
    def content_size(self):
        if self.image is not None:
            return self.image.size()
        if self.preview_rect is not None:
            return self.preview_rect.size().toSize()
        return None

    def fit(self) -> None:
        size = self.content_size()
        if size is None or size.isEmpty() or self.width() < 2:
            self._fit_pending = True
            return
        self._fit_pending = False
        margin = 16
        zoom = min((self.width() - margin * 2) / size.width(), (self.height() - margin * 2) / size.height())
        self._set_zoom(max(MIN_ZOOM, min(MAX_ZOOM, zoom)))
        self.offset = QPointF((self.width() - size.width() * self.zoom) / 2, (self.height() - size.height() * self.zoom) / 2)
        self.update()

    def actual_size(self) -> None:
        self.zoom_at(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_at(self, zoom: float, anchor: QPointF) -> None:
        """Zoom keeping the image point under `anchor` (widget coordinates) where it is."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        image_point = (anchor - self.offset) / self.zoom
        self._set_zoom(zoom)
        self.offset = anchor - image_point * zoom
        self.update()

    def _set_zoom(self, zoom: float) -> None:
        if zoom != self.zoom:
            self.zoom = zoom
            self.zoom_changed.emit(zoom)

    def widget_to_image(self, point: QPointF) -> QPointF:
        return (point - self.offset) / self.zoom

    def image_transform(self) -> QTransform:
        return QTransform().translate(self.offset.x(), self.offset.y()).scale(self.zoom, self.zoom)

    # ------------------------------------------------------------------ events
    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fit_pending:
            self.fit()
        super().resizeEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(self.zoom * (WHEEL_STEP ** steps), event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.unsetCursor()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self.offset += event.position() - self._pan_from
            self._pan_from = event.position()
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            if self._space_down:
                self.setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#2b2b2e"))
        size = self.content_size()
        if size is None:
            if self.hint:
                painter.setPen(QColor("#c8c8cc"))
                painter.drawText(self.rect().adjusted(40, 40, -40, -40),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
            return
        painter.setTransform(self.image_transform())
        # crisp pixels when zoomed in, smooth when zoomed out
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2.0)
        bounds = QRectF(0, 0, size.width(), size.height())
        self._paint_checkerboard(painter, bounds)
        if self.image is not None:
            painter.drawImage(QPointF(0, 0), self.image)
        if self.preview is not None and self.preview_rect is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self.preview_rect, self.preview)
            painter.setPen(QPen(QColor("#4fa3ff"), 0))
            painter.drawRect(self.preview_rect)
        painter.end()

    def _paint_checkerboard(self, painter: QPainter, bounds: QRectF) -> None:
        """Transparent areas show as the usual grey checkerboard."""
        if self._checker is None:
            tile = QImage(16, 16, QImage.Format.Format_RGB32)
            tile.fill(QColor("#cfcfcf"))
            tile_painter = QPainter(tile)
            tile_painter.fillRect(0, 0, 8, 8, QColor("#9f9f9f"))
            tile_painter.fillRect(8, 8, 8, 8, QColor("#9f9f9f"))
            tile_painter.end()
            self._checker = tile
        painter.save()
        painter.resetTransform()
        target = self.image_transform().mapRect(bounds)
        painter.fillRect(target, QBrush(self._checker))
        painter.restore()
