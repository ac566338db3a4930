"""Run an image operation tile by tile, with overlapping tiles blended by a linear feather.

Used by the upscaler (each tile goes through the network at its own scale) and by the tiled refine
(each tile goes through img2img at scale 1). Memory is bounded by the tile size, not the image size:
the operation sees one tile at a time, and the blend keeps float sums only for the strip of output
rows that later tiles can still touch; rows no later tile reaches are written out as 8-bit pixels at
once. The feather weights of overlapping tiles are normalised, so the blend is a continuous mix with
no step at a tile border.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from desktop.core.messages import JobCancelled

TileFn = Callable[[np.ndarray], np.ndarray]  # float32 (h, w, 3) in [0, 1] -> (h*scale, w*scale, 3)


@dataclass(frozen=True)
class Tile:
    """One tile, in input pixels: its left/top corner and size (the overlap included)."""

    x: int
    y: int
    width: int
    height: int


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = max(1, tile - overlap)
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]  # the last tile ends at the edge (it may overlap its neighbour more)


def tile_grid(width: int, height: int, tile: int, overlap: int) -> list[Tile]:
    """Row-major tiles of at most tile x tile covering the image; neighbours share >= overlap pixels."""
    overlap = min(overlap, tile // 2)
    return [Tile(x, y, min(tile, width), min(tile, height))
            for y in _starts(height, tile, overlap) for x in _starts(width, tile, overlap)]


def feather(length: int, ramp: int, rise: bool, fall: bool) -> np.ndarray:
    """1-D weights: a linear ramp over `ramp` samples at a side that has a neighbour, 1 elsewhere."""
    weights = np.ones(length, dtype=np.float32)
    ramp = min(ramp, length // 2)
    if ramp > 0:
        slope = (np.arange(ramp, dtype=np.float32) + 0.5) / ramp
        if rise:
            weights[:ramp] = slope
        if fall:
            weights[-ramp:] = slope[::-1]
    return weights


class StripBlender:
    """Accumulates weighted tiles; writes out finished rows as uint8 and forgets their float sums."""

    def __init__(self, width: int, height: int) -> None:
        self.output = np.zeros((height, width, 3), dtype=np.uint8)
        self.top = 0  # first output row not yet written
        self._sum = np.zeros((0, width, 3), dtype=np.float32)
        self._weight = np.zeros((0, width), dtype=np.float32)
        self.peak_strip_rows = 0  # the most rows held in float at once (tests check the bound)

    def add(self, x: int, y: int, pixels: np.ndarray, weight: np.ndarray) -> None:
        height, width = weight.shape
        rows = y + height - self.top
        if rows > self._sum.shape[0]:
            grow = rows - self._sum.shape[0]
            self._sum = np.concatenate([self._sum, np.zeros((grow, *self._sum.shape[1:]), np.float32)])
            self._weight = np.concatenate([self._weight, np.zeros((grow, self._weight.shape[1]), np.float32)])
        self.peak_strip_rows = max(self.peak_strip_rows, self._sum.shape[0])
        top = y - self.top
        self._sum[top:top + height, x:x + width] += pixels * weight[..., None]
        self._weight[top:top + height, x:x + width] += weight

    def finish_above(self, row: int) -> None:
        """Rows above `row` get no more tiles: write them out."""
        count = min(row, self.output.shape[0]) - self.top
        if count <= 0:
            return
        mixed = self._sum[:count] / np.maximum(self._weight[:count], 1e-8)[..., None]
        self.output[self.top:self.top + count] = np.clip(mixed * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self._sum, self._weight = self._sum[count:], self._weight[count:]
        self.top += count


def run_tiled(image: np.ndarray, scale: int, tile: int, overlap: int, process: TileFn,
              on_tile: Callable[[int, int], None] | None = None,
              cancel: threading.Event | None = None) -> np.ndarray:
    """`process` every tile of `image` (uint8 H x W x 3) and blend the results into one uint8 picture."""
    height, width = image.shape[:2]
    tiles = tile_grid(width, height, tile, overlap)
    blender = StripBlender(width * scale, height * scale)
    ramp = min(overlap, tile // 2) * scale
    for index, part in enumerate(tiles):
        if cancel is not None and cancel.is_set():
            raise JobCancelled()
        crop = image[part.y:part.y + part.height, part.x:part.x + part.width].astype(np.float32) / 255.0
        result = process(crop)
        expected = (part.height * scale, part.width * scale, 3)
        if result.shape != expected:
            raise ValueError(f"a tile came back {result.shape[1]}x{result.shape[0]}, expected "
                             f"{expected[1]}x{expected[0]}")
        weight = np.outer(
            feather(expected[0], ramp, part.y > 0, part.y + part.height < height),
            feather(expected[1], ramp, part.x > 0, part.x + part.width < width))
        blender.add(part.x * scale, part.y * scale, result, weight)
        following = tiles[index + 1] if index + 1 < len(tiles) else None
        blender.finish_above(following.y * scale if following else height * scale)
        if on_tile is not None:
            on_tile(index + 1, len(tiles))
    return blender.output
