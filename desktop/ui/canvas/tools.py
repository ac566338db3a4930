"""Canvas tools: the shared tool settings, and one gesture class per kind of drag on the canvas.

A gesture turns pointer positions (canvas pixels, floats) into the core's undoable edits; the
canvas view only routes mouse events to it and draws what it reports (a draft rectangle).
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, Signal

from desktop.core.compositing import Brush
from desktop.core.document import MASK, Document, EditError, Layer
from desktop.core.edits import AddLayer, OffsetLayer, SetSelection, expand_canvas
from desktop.core.geometry import Rect
from desktop.core.stroke import Stroke

TOOLS = ("brush", "eraser", "select", "move", "pan")
TOOL_LABELS = {"brush": "Brush", "eraser": "Eraser", "select": "Rectangle select", "move": "Move layer", "pan": "Pan"}
MIN_BRUSH, MAX_BRUSH = 1, 1000
EXPAND_STEP = 8  # edge drags grow the canvas in multiples of 8: the size generation works in
_gestures = itertools.count(1)


class ToolState(QObject):
    """The current tool and brush settings, shared by the canvas, the options bar and the shortcuts."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tool = "brush"
        self.size = 24.0
        self.hardness = 0.8
        self.color: tuple[int, int, int] = (20, 20, 24)
        self.opacity = 1.0
        self.mask_mode = False  # brush and eraser work on the inpaint mask (Photoshop's quick mask)

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            self.tool = tool
            self.changed.emit()

    def set_size(self, size: float) -> None:
        size = float(min(max(round(size), MIN_BRUSH), MAX_BRUSH))
        if size != self.size:
            self.size = size
            self.changed.emit()

    def grow(self) -> None:
        """`]`: about 20% larger, at least one pixel, as Krita and Photoshop step."""
        self.set_size(max(self.size + 1, self.size * 1.2))

    def shrink(self) -> None:
        self.set_size(min(self.size - 1, self.size / 1.2))

    def set_hardness(self, hardness: float) -> None:
        hardness = float(min(max(hardness, 0.0), 1.0))
        if hardness != self.hardness:
            self.hardness = hardness
            self.changed.emit()

    def set_color(self, color: tuple[int, int, int]) -> None:
        color = tuple(int(c) for c in color[:3])
        if color != self.color:
            self.color = color
            self.changed.emit()

    def set_mask_mode(self, on: bool) -> None:
        if bool(on) != self.mask_mode:
            self.mask_mode = bool(on)
            if on and self.tool not in ("brush", "eraser"):
                self.tool = "brush"  # quick mask means painting the mask: pick the brush for it
            self.changed.emit()

    def brush(self, erase: bool) -> Brush:
        return Brush(self.size, self.hardness, self.color + (255,), self.opacity, erase)

    @property
    def paints(self) -> bool:
        return self.tool in ("brush", "eraser")


class Gesture:
    """One drag on the canvas, from press to release (or cancel)."""

    draft: Rect | None = None  # what the view draws while dragging, in canvas pixels

    def move(self, x: float, y: float) -> Rect | None:
        """Follow the pointer; returns the canvas rectangle whose pixels changed, if any."""
        return None

    def release(self, x: float, y: float) -> None:
        pass

    def cancel(self) -> None:
        pass


def paint_target(document: Document, mask_mode: bool) -> str:
    """What a brush stroke paints on: the mask, or the active layer (made if the canvas has none)."""
    if mask_mode:
        return MASK
    layer = document.active_layer
    if layer is None:
        number = len(document.layers) + 1
        layer = document.history.do(AddLayer(Layer.blank(f"Layer {number}", document.width, document.height))).layer
    if not layer.visible:
        raise EditError(f"The layer {layer.name!r} is hidden: show it (the eye in Layers) to paint on it")
    return layer.id


class PaintGesture(Gesture):
    """A brush or eraser stroke on a layer or on the mask; one undo step."""

    def __init__(self, document: Document, target: str, brush: Brush, x: float, y: float) -> None:
        self.stroke = Stroke(document, target, brush)
        self.first = self.stroke.add_point(x, y)

    def move(self, x: float, y: float) -> Rect | None:
        return self.stroke.add_point(x, y)

    def release(self, x: float, y: float) -> None:
        self.stroke.add_point(x, y)
        self.stroke.finish()

    def cancel(self) -> None:
        self.stroke.cancel()


class SelectGesture(Gesture):
    """Drag a rectangle to select it; a click without a drag selects nothing. Shift makes a square."""

    def __init__(self, document: Document, x: float, y: float) -> None:
        self.document = document
        self.start = (round(x), round(y))
        self.square = False
        self.draft = None

    def _rect(self, x: float, y: float) -> Rect:
        x0, y0 = self.start
        x1, y1 = round(x), round(y)
        if self.square:
            side = max(abs(x1 - x0), abs(y1 - y0))
            x1 = x0 + (side if x1 >= x0 else -side)
            y1 = y0 + (side if y1 >= y0 else -side)
        return Rect.from_corners(x0, y0, x1, y1)

    def move(self, x: float, y: float) -> Rect | None:
        self.draft = self._rect(x, y).intersect(self.document.rect)
        return None

    def release(self, x: float, y: float) -> None:
        rect = self._rect(x, y).intersect(self.document.rect)
        self.draft = None
        if rect is None or rect.width < 2 or rect.height < 2:
            if self.document.selection is not None:
                self.document.history.do(SetSelection(None))
            return
        if rect != self.document.selection:
            self.document.history.do(SetSelection(rect))


class MoveGesture(Gesture):
    """Drag the active layer by whole pixels; the whole drag is one undo step."""

    def __init__(self, document: Document, x: float, y: float) -> None:
        layer = document.active_layer
        if layer is None:
            raise EditError("There is no layer to move: add or generate one first")
        self.document, self.layer_id = document, layer.id
        self.origin = (x, y)
        self.moved = (0, 0)
        self.gesture = ("move", next(_gestures))

    def move(self, x: float, y: float) -> Rect | None:
        dx, dy = round(x - self.origin[0]), round(y - self.origin[1])
        step = (dx - self.moved[0], dy - self.moved[1])
        if step != (0, 0):
            self.document.history.do(OffsetLayer(self.layer_id, step[0], step[1], self.gesture))
            self.moved = (dx, dy)
        return None

    def release(self, x: float, y: float) -> None:
        self.move(x, y)

    def cancel(self) -> None:
        if self.moved != (0, 0):
            self.document.history.undo()  # the drag so far is one merged step
            self.moved = (0, 0)


SIDES = ("left", "top", "right", "bottom")


class ExpandGesture(Gesture):
    """Drag a canvas edge outward to make room for outpainting; the draft is the new canvas outline."""

    def __init__(self, document: Document, sides: tuple[str, ...], x: float, y: float) -> None:
        self.document, self.sides = document, sides
        self.origin = (x, y)
        self.pads = (0, 0, 0, 0)
        self.draft = document.rect

    def move(self, x: float, y: float) -> Rect | None:
        dx, dy = x - self.origin[0], y - self.origin[1]
        grow = {"left": -dx, "right": dx, "top": -dy, "bottom": dy}
        pads = tuple(_snap(grow[side]) if side in self.sides else 0 for side in SIDES)
        self.pads = pads
        left, top, right, bottom = pads
        self.draft = Rect(-left, -top, self.document.width + left + right, self.document.height + top + bottom)
        return None

    def release(self, x: float, y: float) -> None:
        self.move(x, y)
        self.draft = None
        if any(self.pads):
            self.document.history.do(expand_canvas(self.document, *self.pads))


def _snap(amount: float) -> int:
    """Outward pixels, rounded to the generation step; dragging inward does nothing (use Crop)."""
    return max(0, int(round(amount / EXPAND_STEP)) * EXPAND_STEP)
