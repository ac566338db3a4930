"""Integer rectangles in canvas or layer pixels: selections, dirty regions, layer bounds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle of whole pixels; width and height are never negative."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("x", "y", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                object.__setattr__(self, name, int(value))
        if self.width < 0 or self.height < 0:
            raise ValueError(f"a rectangle cannot have a negative size, got {self.width}x{self.height}")

    @classmethod
    def from_corners(cls, x0: float, y0: float, x1: float, y1: float) -> "Rect":
        """The rectangle between two points in any order (a drag from either corner)."""
        left, right = sorted((int(round(x0)), int(round(x1))))
        top, bottom = sorted((int(round(y0)), int(round(y1))))
        return cls(left, top, right - left, bottom - top)

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return self.width * self.height

    def is_empty(self) -> bool:
        return self.width == 0 or self.height == 0

    def intersect(self, other: "Rect") -> "Rect | None":
        left, top = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= left or bottom <= top:
            return None
        return Rect(left, top, right - left, bottom - top)

    def union(self, other: "Rect | None") -> "Rect":
        if other is None or other.is_empty():
            return self
        if self.is_empty():
            return other
        left, top = min(self.x, other.x), min(self.y, other.y)
        right, bottom = max(self.right, other.right), max(self.bottom, other.bottom)
        return Rect(left, top, right - left, bottom - top)

    def translated(self, dx: int, dy: int) -> "Rect":
        return Rect(self.x + dx, self.y + dy, self.width, self.height)

    def contains(self, other: "Rect") -> bool:
        return other.x >= self.x and other.y >= self.y and other.right <= self.right and other.bottom <= self.bottom

    def slices(self) -> tuple[slice, slice]:
        """Row and column slices for indexing an array whose origin is (0, 0)."""
        return slice(self.y, self.bottom), slice(self.x, self.right)
