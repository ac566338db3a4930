"""The canvas view: renders the open Document and edits it with the current tool; zoom, pan, previews.

It keeps no document state of its own: what it shows comes from the Document (through a cached
composite updated by dirty rectangles) and every edit goes through the document's history.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QTransform
from PySide6.QtWidgets import QWidget

from desktop.core.document import Document, EditError
from desktop.core.edits import expand_canvas
from desktop.core.geometry import Rect
from desktop.ui.canvas import overlays
from desktop.ui.canvas.display import DocumentDisplay
from desktop.ui.canvas.space_pan import SpacePan
from desktop.ui.canvas.tools import ExpandGesture, Gesture, MoveGesture, PaintGesture, SelectGesture, ToolState, paint_target
from desktop.ui.theme import canvas_background

MIN_ZOOM = 1 / 32
MAX_ZOOM = 64.0
WHEEL_STEP = 1.25
EDGE_BAND = 14  # widget pixels outside a canvas edge where a drag grows the canvas
PLACEHOLDER = ("Generate an image, open one (Ctrl+O), paste one (Ctrl+V) or drop one here.\n"
               "File > New (Ctrl+N) starts a blank canvas.")
_CURSORS = {"brush": Qt.CursorShape.CrossCursor, "eraser": Qt.CursorShape.CrossCursor,
            "select": Qt.CursorShape.CrossCursor, "move": Qt.CursorShape.SizeAllCursor,
            "pan": Qt.CursorShape.OpenHandCursor}


class CanvasView(QWidget):
    """Shows a Document with zoom, pan, mask tint, selection and live previews; routes drags to tools."""

    zoom_changed = Signal(float)
    message = Signal(str)  # an edit was refused: the reason, for the status bar
    files_dropped = Signal(list, object)  # local paths, canvas point (QPointF)
    image_dropped = Signal(object, object)  # QImage, canvas point
    cursor_moved = Signal(object)  # canvas point (QPointF) or None when the pointer leaves
    canvas_expanded = Signal()  # an edge was dragged outward: room for outpainting

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.tools = ToolState(self)
        self.tools.changed.connect(self._on_tools_changed)
        self.display = DocumentDisplay(self._on_dirty)
        self.document: Document | None = None
        self.preview: QImage | None = None
        self.preview_rect: QRectF | None = None  # in canvas coordinates
        self.hint = ""
        self.show_mask = True
        self.zoom = 1.0
        self.offset = QPointF(0, 0)  # widget position of the canvas's top-left corner
        self._fit_pending = True
        self._space_down = False
        self._pan_from: QPointF | None = None
        self._gesture: Gesture | None = None
        self._pointer: QPointF | None = None  # widget position, for the brush outline
        self._ants_phase = 0.0
        self._ants = QTimer(self, interval=160)
        self._ants.timeout.connect(self._march)
        self.space_pan = SpacePan(self)  # Space over the canvas pans, even while the prompt box has the keys
        self._on_tools_changed()

    # ------------------------------------------------------------------ content
    def set_document(self, document: Document | None) -> None:
        self.cancel_gesture()
        self.document = document
        self.display.set_document(document)
        self.preview = None
        self.preview_rect = None
        self.fit()
        self._update_ants()

    @property
    def image(self) -> QImage | None:
        """The flattened canvas as shown (None with no document)."""
        return self.display.image()

    def set_preview(self, image: QImage, target: QRectF | None = None) -> None:
        """Draw a (small) live preview stretched over `target` (canvas pixels), or the whole canvas."""
        self.preview = image
        if target is None:
            if self.document is not None:
                target = QRectF(0, 0, self.document.width, self.document.height)
            else:
                target = QRectF(0, 0, image.width() * 8, image.height() * 8)
        first = self.document is None and self.preview_rect != target
        self.preview_rect = target
        if first:
            self.fit()
        self.update()

    def clear_preview(self) -> None:
        self.preview = None
        self.preview_rect = None
        self.update()

    def set_hint(self, text: str) -> None:
        self.hint = text
        self.update()

    def expand(self, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0) -> bool:
        """Grow the canvas (undoable); the picture stays where it is on screen."""
        if self.document is None:
            self.message.emit("Open or generate an image first: there is no canvas to expand")
            return False
        try:
            self.document.history.do(expand_canvas(self.document, left, top, right, bottom))
        except EditError as error:
            self.message.emit(str(error))
            return False
        self._show_expanded(left, top)
        return True

    def _show_expanded(self, left: int, top: int) -> None:
        """After the canvas grew: the picture stays put on screen, unless the new canvas no longer fits;
        then the whole canvas is fitted, so the new (empty) area is seen before Outpaint fills it."""
        self.offset -= QPointF(left * self.zoom, top * self.zoom)
        bounds = self.image_to_widget(QRectF(0, 0, self.document.width, self.document.height))
        if not QRectF(self.rect()).contains(bounds):
            self.fit()
        self.update()
        self.canvas_expanded.emit()

    # ------------------------------------------------------------------ zoom and pan
    def content_size(self):
        if self.document is not None:
            return QRect(0, 0, self.document.width, self.document.height).size()
        if self.preview_rect is not None:
            return self.preview_rect.size().toSize()
        return None

    def fit(self) -> None:
        size = self.content_size()
        if size is None or size.isEmpty() or self.width() < 2:
            self._fit_pending = True
            self.update()
            return
        self._fit_pending = False
        margin = 24
        zoom = min((self.width() - margin * 2) / size.width(), (self.height() - margin * 2) / size.height())
        self._set_zoom(max(MIN_ZOOM, min(MAX_ZOOM, zoom)))
        self.offset = QPointF((self.width() - size.width() * self.zoom) / 2, (self.height() - size.height() * self.zoom) / 2)
        self.update()

    def actual_size(self) -> None:
        self.zoom_at(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_at(self, zoom: float, anchor: QPointF) -> None:
        """Zoom keeping the canvas point under `anchor` (widget coordinates) where it is."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        point = (anchor - self.offset) / self.zoom
        self._set_zoom(zoom)
        self.offset = anchor - point * zoom
        self.update()

    def _set_zoom(self, zoom: float) -> None:
        if zoom != self.zoom:
            self.zoom = zoom
            self.zoom_changed.emit(zoom)

    def widget_to_image(self, point: QPointF) -> QPointF:
        return (point - self.offset) / self.zoom

    def image_to_widget(self, rect: QRectF) -> QRectF:
        return QRectF(self.offset.x() + rect.x() * self.zoom, self.offset.y() + rect.y() * self.zoom,
                      rect.width() * self.zoom, rect.height() * self.zoom)

    def image_transform(self) -> QTransform:
        return QTransform().translate(self.offset.x(), self.offset.y()).scale(self.zoom, self.zoom)

    # ------------------------------------------------------------------ state changes
    def _on_dirty(self, rect: Rect | None) -> None:
        if rect is None or self.document is None:
            self._update_ants()
            self.update()
        else:
            self.update(self.image_to_widget(QRectF(rect.x, rect.y, rect.width, rect.height)).toAlignedRect().adjusted(-2, -2, 2, 2))

    def _on_tools_changed(self) -> None:
        if self._pan_from is None and not self._space_down:
            self.setCursor(_CURSORS[self.tools.tool])
        self.update()

    def _update_ants(self) -> None:
        marching = self.document is not None and self.document.selection is not None
        if marching and not self._ants.isActive():
            self._ants.start()
        elif not marching:
            self._ants.stop()

    def _march(self) -> None:
        self._ants_phase = (self._ants_phase + 1) % 8
        selection = self.document.selection if self.document is not None else None
        if selection is not None:
            self.update(self.image_to_widget(QRectF(selection.x, selection.y, selection.width, selection.height))
                        .toAlignedRect().adjusted(-2, -2, 2, 2))

    # ------------------------------------------------------------------ mouse and keys
    def set_space_held(self, held: bool) -> None:
        """Space is down for the canvas (SpacePan): a left drag pans instead of using the tool."""
        self._space_down = held
        if self._pan_from is None:
            self.setCursor(Qt.CursorShape.OpenHandCursor if held else _CURSORS[self.tools.tool])

    def pointer_position(self) -> QPointF | None:
        """Where the pointer is over the canvas (widget coordinates), None when it is elsewhere."""
        return self._pointer

    def event(self, event) -> bool:  # noqa: D401 - Qt's name
        # Escape mid-drag cancels the drag here, before the window's Cancel-generation shortcut sees it
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape and self._gesture:
            event.accept()
            return True
        return super().event(event)

    def _edge_sides(self, position: QPointF) -> tuple[str, ...]:
        """The canvas edges just outside which `position` lies (a drag there grows the canvas)."""
        if self.document is None or self.tools.tool == "pan":
            return ()
        bounds = self.image_to_widget(QRectF(0, 0, self.document.width, self.document.height))
        if bounds.contains(position) or not bounds.adjusted(-EDGE_BAND, -EDGE_BAND, EDGE_BAND, EDGE_BAND).contains(position):
            return ()
        sides = []
        if position.x() < bounds.left():
            sides.append("left")
        if position.x() > bounds.right():
            sides.append("right")
        if position.y() < bounds.top():
            sides.append("top")
        if position.y() > bounds.bottom():
            sides.append("bottom")
        return tuple(sides)

    def _hover_cursor(self, position: QPointF) -> None:
        sides = self._edge_sides(position)
        if not sides:
            self.setCursor(_CURSORS[self.tools.tool])
        elif len(sides) == 2:
            diagonal = set(sides) in ({"left", "top"}, {"right", "bottom"})
            self.setCursor(Qt.CursorShape.SizeFDiagCursor if diagonal else Qt.CursorShape.SizeBDiagCursor)
        else:
            horizontal = sides[0] in ("left", "right")
            self.setCursor(Qt.CursorShape.SizeHorCursor if horizontal else Qt.CursorShape.SizeVerCursor)

    def _start_gesture(self, event) -> Gesture | None:
        document, tools, button = self.document, self.tools, event.button()
        point = self.widget_to_image(event.position())
        x, y = point.x(), point.y()
        sides = self._edge_sides(event.position())
        if sides and button == Qt.MouseButton.LeftButton:
            return ExpandGesture(document, sides, x, y)
        if tools.paints and button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            erase = tools.tool == "eraser" or button == Qt.MouseButton.RightButton  # right-drag takes paint away
            return PaintGesture(document, paint_target(document, tools.mask_mode), tools.brush(erase), x, y)
        if button != Qt.MouseButton.LeftButton:
            return None
        if tools.tool == "select":
            gesture = SelectGesture(document, x, y)
            gesture.square = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            return gesture
        if tools.tool == "move":
            return MoveGesture(document, x, y)
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and (self._space_down or self.tools.tool == "pan")
        ):
            self._pan_from = event.position()
            if self._space_down:
                self.space_pan.note_pan()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if self.document is None or self._gesture is not None:
            event.ignore()
            return
        try:
            self._gesture = self._start_gesture(event)
        except EditError as error:
            self.message.emit(str(error))
        self.update()
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        position = event.position()
        self._pointer = position
        if self._pan_from is not None:
            self.offset += position - self._pan_from
            self._pan_from = position
            self.update()
            return
        point = self.widget_to_image(position)
        self.cursor_moved.emit(point if self.document is not None else None)
        if self._gesture is not None:
            if isinstance(self._gesture, SelectGesture):
                self._gesture.square = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            try:
                self._gesture.move(point.x(), point.y())
            except EditError as error:
                self.cancel_gesture()
                self.message.emit(str(error))
            self.update()
            return
        self._hover_cursor(position)
        if self.tools.paints:
            self.update()  # the brush outline follows the pointer

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_down else _CURSORS[self.tools.tool])
            return
        gesture, self._gesture = self._gesture, None
        if gesture is None:
            return
        point = self.widget_to_image(event.position())
        before = (self.document.width, self.document.height)
        try:
            gesture.release(point.x(), point.y())
        except EditError as error:
            gesture.cancel()
            self.message.emit(str(error))
        if isinstance(gesture, ExpandGesture) and (self.document.width, self.document.height) != before:
            self._show_expanded(gesture.pads[0], gesture.pads[1])
        self._update_ants()
        self.update()

    def cancel_gesture(self) -> None:
        gesture, self._gesture = self._gesture, None
        if gesture is not None:
            gesture.cancel()
            self.update()

    def enterEvent(self, event) -> None:  # noqa: N802
        self._pointer = event.position()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._pointer = None
        self.cursor_moved.emit(None)
        self.update()
        super().leaveEvent(event)

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
        if event.key() == Qt.Key.Key_Escape and self._gesture is not None:
            self.cancel_gesture()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.setCursor(_CURSORS[self.tools.tool])
            return
        super().keyReleaseEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fit_pending:
            self.fit()
        super().resizeEvent(event)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() or any(url.isLocalFile() for url in mime.urls()):
            event.acceptProposedAction()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:  # noqa: N802
        mime, point = event.mimeData(), self.widget_to_image(event.position())
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            self.files_dropped.emit(paths, point)
        elif mime.hasImage():
            self.image_dropped.emit(QImage(mime.imageData()), point)
        event.acceptProposedAction()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(event.rect(), canvas_background(self))
        size = self.content_size()
        if size is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(self.rect().adjusted(40, 40, -40, -40),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint or PLACEHOLDER)
            return
        bounds = self.image_to_widget(QRectF(0, 0, size.width(), size.height()))
        overlays.draw_checkerboard(painter, bounds.intersected(QRectF(event.rect())))
        if self.document is not None:
            self._paint_document(painter, QRectF(event.rect()))
        if self.preview is not None and self.preview_rect is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            target = self.image_to_widget(self.preview_rect)
            painter.drawImage(target, self.preview)
            painter.setPen(QPen(QColor("#4fa3ff"), 1))
            painter.drawRect(target)
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.drawRect(bounds.adjusted(-1, -1, 0, 0))
        self._paint_marks(painter)
        painter.end()

    def _paint_document(self, painter: QPainter, exposed: QRectF) -> None:
        document = self.document
        # Only the exposed part, in whole canvas pixels: the scaling stays exact at every zoom.
        x0 = max(0, math.floor((exposed.left() - self.offset.x()) / self.zoom))
        y0 = max(0, math.floor((exposed.top() - self.offset.y()) / self.zoom))
        x1 = min(document.width, math.ceil((exposed.right() + 1 - self.offset.x()) / self.zoom))
        y1 = min(document.height, math.ceil((exposed.bottom() + 1 - self.offset.y()) / self.zoom))
        if x1 <= x0 or y1 <= y0:
            return
        source = QRectF(x0, y0, x1 - x0, y1 - y0)
        target = self.image_to_widget(source)
        # crisp pixels when zoomed in, smooth when zoomed out
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2.0)
        painter.drawImage(target, self.display.image(), source)
        tint = self.display.tint() if self.show_mask else None
        if tint is not None:
            painter.drawImage(target, tint, source)
        overlays.draw_pixel_grid(painter, target.intersected(exposed), self.offset, self.zoom)

    def _paint_marks(self, painter: QPainter) -> None:
        document, gesture = self.document, self._gesture
        if document is not None and document.selection is not None:
            s = document.selection
            overlays.draw_ants(painter, self.image_to_widget(QRectF(s.x, s.y, s.width, s.height)), self._ants_phase)
        draft = gesture.draft if gesture is not None else None
        if draft is not None:
            rect = self.image_to_widget(QRectF(draft.x, draft.y, draft.width, draft.height))
            accent = QColor("#4fa3ff") if isinstance(gesture, ExpandGesture) else None
            overlays.draw_ants(painter, rect, 0, accent)
            overlays.draw_label(painter, rect.bottomRight(), f"{draft.width} × {draft.height}")
        if self._pointer is not None and self.tools.paints and self._pan_from is None and document is not None:
            if not self._edge_sides(self._pointer):
                overlays.draw_brush_outline(painter, self._pointer, self.tools.size * self.zoom)
