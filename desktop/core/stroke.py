"""Brush strokes on a layer or on the inpaint mask: painted live, undone as one step.

A stroke keeps a copy of each 64-pixel tile before it first touches it, so undo costs memory in
proportion to what was painted, not to the size of the canvas.
"""

from __future__ import annotations

import itertools

import numpy as np

from desktop.core.compositing import Brush, apply_coverage, dab_coverage, stroke_points
from desktop.core.document import MASK, Document
from desktop.core.geometry import Rect
from desktop.core.history import Command

TILE = 64
_stroke_ids = itertools.count(1)

Tiles = dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]


def _tile_rect(key: tuple[int, int]) -> Rect:
    return Rect(key[0] * TILE, key[1] * TILE, TILE, TILE)


class PaintStroke(Command):
    """The tiles a stroke changed, before and after; merges with later pieces of the same stroke."""

    def __init__(self, target: str, tiles: Tiles, stroke_id: int, label: str) -> None:
        self.target, self.tiles, self.stroke_id, self.label = target, tiles, stroke_id, label

    def _write(self, document: Document, which: int) -> None:
        pixels, _x, _y = document.target_pixels(self.target)
        changed: Rect | None = None
        for key, pair in self.tiles.items():
            tile = pair[which]
            area = Rect(key[0] * TILE, key[1] * TILE, tile.shape[1], tile.shape[0])
            pixels[area.slices()] = tile
            changed = area.union(changed)
        if changed is not None:
            document.notify_pixels(self.target, changed)

    def do(self, document: Document) -> None:
        self._write(document, 1)

    def undo(self, document: Document) -> None:
        self._write(document, 0)

    def merge(self, other: Command) -> bool:
        if not (isinstance(other, PaintStroke) and other.target == self.target and other.stroke_id == self.stroke_id):
            return False
        for key, (before, after) in other.tiles.items():
            mine = self.tiles.get(key)
            self.tiles[key] = (mine[0] if mine else before, after)  # keep the oldest "before"
        return True

    @property
    def nbytes(self) -> int:
        return sum(before.nbytes + after.nbytes for before, after in self.tiles.values())


class Stroke:
    """One brush stroke in progress: feed it pointer positions, then finish (one undo step) or cancel.

    Dabs inside one stroke do not build up: each pixel takes the strongest coverage any dab gave
    it, so a stroke at 50% opacity stays at 50% where it crosses itself, as in Krita and Photoshop.
    """

    def __init__(self, document: Document, target: str, brush: Brush, stroke_id: int | None = None) -> None:
        self.document, self.target, self.brush = document, target, brush
        self.stroke_id = stroke_id if stroke_id is not None else next(_stroke_ids)
        self._pixels, self._origin_x, self._origin_y = document.target_pixels(target)
        self._bounds = Rect(0, 0, self._pixels.shape[1], self._pixels.shape[0])
        self._before: dict[tuple[int, int], np.ndarray] = {}
        self._coverage: dict[tuple[int, int], np.ndarray] = {}
        self._last: tuple[float, float] | None = None
        self._carry = 0.0

    @property
    def label(self) -> str:
        what = "mask" if self.target == MASK else "layer"
        return f"{'Erase' if self.brush.erase else 'Paint'} {what}"

    def add_point(self, x: float, y: float) -> Rect | None:
        """Paint up to canvas point (x, y); returns the canvas rectangle that changed, if any."""
        point = (x - self._origin_x, y - self._origin_y)
        if self._last is None:
            centres = [point]
        else:
            centres, self._carry = stroke_points(self._last, point, self.brush.spacing, self._carry)
        self._last = point
        changed: Rect | None = None
        for cx, cy in centres:
            area = self._dab(cx, cy)
            if area is not None:
                changed = area.union(changed)
        if changed is None:
            return None
        self.document.notify_pixels(self.target, changed)
        return changed.translated(self._origin_x, self._origin_y)

    def _dab(self, cx: float, cy: float) -> Rect | None:
        rect, coverage = dab_coverage(self.brush, cx, cy)
        area = rect.intersect(self._bounds)
        if area is None:
            return None
        for ty in range(area.y // TILE, (area.bottom - 1) // TILE + 1):
            for tx in range(area.x // TILE, (area.right - 1) // TILE + 1):
                key = (tx, ty)
                tile = _tile_rect(key).intersect(self._bounds)
                if key not in self._before:
                    self._before[key] = self._pixels[tile.slices()].copy()
                    self._coverage[key] = np.zeros((tile.height, tile.width), np.float32)
                part = tile.intersect(area)
                local = part.translated(-tile.x, -tile.y).slices()
                strongest = np.maximum(self._coverage[key][local], coverage[part.translated(-rect.x, -rect.y).slices()])
                self._coverage[key][local] = strongest
                self._pixels[part.slices()] = apply_coverage(self._before[key][local], strongest, self.brush)
        return area

    def finish(self) -> PaintStroke | None:
        """Record the stroke in the document's history; None when it changed no pixel."""
        tiles: Tiles = {}
        for key, before in self._before.items():
            after = self._pixels[_tile_rect(key).intersect(self._bounds).slices()].copy()
            if not np.array_equal(before, after):
                tiles[key] = (before, after)
        self._before.clear()
        self._coverage.clear()
        if not tiles:
            self.document.modified = not self.document.history.is_clean  # dabs that changed nothing
            return None
        command = PaintStroke(self.target, tiles, self.stroke_id, self.label)
        self.document.history.push(command)
        return command

    def cancel(self) -> None:
        """Take the stroke back without recording it (Escape while painting)."""
        if self._before:
            PaintStroke(self.target, {k: (v, v) for k, v in self._before.items()}, self.stroke_id, "").undo(self.document)
        self._before.clear()
        self._coverage.clear()
        self.document.modified = not self.document.history.is_clean
