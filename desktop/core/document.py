"""The canvas document: size, layers, inpaint mask and selection, with change events.

The Qt canvas renders and edits this model and keeps no state of its own that a save would miss.
Change it through the undoable commands in `desktop.core.edits` (and `desktop.core.stroke` for
painting) run by `document.history`; the mutators here are the steps those commands take.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.core.blending import NORMAL
from desktop.core.compositing import flatten, paste
from desktop.core.events import Signal
from desktop.core.geometry import Rect
from desktop.core.history import History
from desktop.core.image_io import ImageLoadError, check_image_size
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec

MASK = "mask"  # the paint target that names the inpaint mask instead of a layer


class EditError(ValueError):
    """An edit that cannot be made; the message says why and what to do instead."""


def new_layer_id() -> str:
    return uuid.uuid4().hex[:12]


def as_rgba(pixels: np.ndarray) -> np.ndarray:
    """An H x W x 4 uint8 copy of grey, RGB or RGBA pixels."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise EditError(f"layer pixels must be 8-bit (uint8), got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[..., None].repeat(3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise EditError(f"layer pixels must be H x W x 3 or 4, got shape {pixels.shape}")
    if pixels.shape[2] == 3:
        alpha = np.full(pixels.shape[:2] + (1,), 255, np.uint8)
        pixels = np.concatenate([pixels, alpha], axis=2)
    return np.ascontiguousarray(pixels).copy()


@dataclass(frozen=True)
class Group:
    """A layer group as OpenRaster files hold it (a nested `<stack>`): its layers are the ones whose
    `groups` path contains it. Opacity, visibility and blend mode apply to the group as a whole."""

    name: str = "Group"
    opacity: float = 1.0
    visible: bool = True
    blend: str = NORMAL  # an OpenRaster composite-op
    isolation: str = "auto"  # "isolate", or "auto": drawn in isolation only when opacity or blend ask for it
    id: str = field(default_factory=new_layer_id)

    @property
    def isolated(self) -> bool:
        """OpenRaster: a group is drawn on its own first when it says so, or is see-through, or blends."""
        return self.isolation == "isolate" or self.opacity < 1.0 or self.blend != NORMAL


@dataclass(eq=False)
class Layer:
    """One raster layer: RGBA pixels (straight alpha) placed at (x, y) on the canvas."""

    name: str
    pixels: np.ndarray
    x: int = 0
    y: int = 0
    visible: bool = True
    opacity: float = 1.0
    parameters: str = ""  # how a generated layer was made (AUTOMATIC1111 text), for export metadata
    id: str = field(default_factory=new_layer_id)
    blend: str = NORMAL  # OpenRaster composite-op (desktop.core.blending); unknown ones are kept, drawn Normal
    groups: tuple[Group, ...] = ()  # the groups it is in, outermost first
    extra_attributes: tuple[tuple[str, str], ...] = ()  # stack.xml attributes other programs wrote, kept as-is
    # a steering role (desktop/core/steering.py): control layer, reference image or regional prompt; None: picture
    steering: ControlSpec | ReferenceSpec | RegionSpec | None = None

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not (isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 4):
            self.pixels = as_rgba(pixels)
        self.opacity = float(min(max(self.opacity, 0.0), 1.0))
        self.x, self.y = int(self.x), int(self.y)
        if self.steering is not None and not isinstance(self.steering, (ControlSpec, ReferenceSpec, RegionSpec)):
            raise EditError(f"a layer's steering role must be a control, reference or region, got {self.steering!r}")

    @classmethod
    def blank(cls, name: str, width: int, height: int, color=(0, 0, 0, 0), x: int = 0, y: int = 0) -> "Layer":
        pixels = np.empty((height, width, 4), np.uint8)
        pixels[...] = color
        return cls(name, pixels, x, y)

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def bounds(self) -> Rect:
        """Where the pixels lie, in canvas coordinates."""
        return Rect(self.x, self.y, self.width, self.height)

    def copy(self, name: str | None = None) -> "Layer":
        """A deep copy with a new id."""
        return Layer(name or self.name, self.pixels.copy(), self.x, self.y, self.visible, self.opacity, self.parameters,
                     blend=self.blend, groups=self.groups, extra_attributes=self.extra_attributes,
                     steering=self.steering)

    @property
    def shown(self) -> bool:
        """Visible, and so is every group it is in."""
        return self.visible and all(group.visible for group in self.groups)


@dataclass(frozen=True)
class Change:
    """What changed: kind is layers, pixels, mask, selection, size, active or modified.

    `rect` (canvas pixels) says where for pixels and mask changes; None means everywhere.
    """

    kind: str
    layer_id: str | None = None
    rect: Rect | None = None


class Document:
    """The canvas: size, ordered layers (bottom first), active layer, mask, selection, modified flag."""

    def __init__(self, width: int, height: int, layers: list[Layer] | None = None, path: Path | None = None) -> None:
        check_canvas_size(width, height)
        self._width, self._height = int(width), int(height)
        self._layers: list[Layer] = list(layers or [])
        self._active_id = self._layers[-1].id if self._layers else None
        self._mask = np.zeros((self._height, self._width), np.uint8)
        self._selection: Rect | None = None
        self._modified = False
        self.revision = 0  # counts every change; autosave compares it
        self.notes: list[str] = []  # what opening its file could not keep, for the window to say
        self.path = Path(path) if path else None
        self.changed = Signal()  # emits one Change per change
        self.history = History(self)

    @classmethod
    def blank(cls, width: int, height: int, color=(255, 255, 255, 255)) -> "Document":
        """A new canvas with one filled "Background" layer (white, as in Krita and Photoshop)."""
        check_canvas_size(width, height)
        return cls(width, height, [Layer.blank("Background", width, height, color)])

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, name: str = "Background", path: Path | None = None) -> "Document":
        """A canvas the size of an opened or pasted image, holding it as its one layer."""
        layer = Layer(name, pixels)
        return cls(layer.width, layer.height, [layer], path=path)

    # ------------------------------------------------------------ reading
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self._width, self._height)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Bottom layer first."""
        return tuple(self._layers)

    @property
    def active_layer(self) -> Layer | None:
        return self.layer(self._active_id) if self._active_id else None

    @property
    def mask(self) -> np.ndarray:
        """Canvas-sized uint8, 255 = repaint; read it, change it through commands."""
        return self._mask

    @property
    def selection(self) -> Rect | None:
        return self._selection

    @property
    def modified(self) -> bool:
        return self._modified

    @modified.setter
    def modified(self, value: bool) -> None:
        if value != self._modified:
            self._modified = bool(value)
            self.changed.emit(Change("modified"))

    def mark_saved(self, path: Path | None = None) -> None:
        """The document now matches the file at `path` (or its current path): not modified."""
        if path is not None:
            self.path = Path(path)
        self.history.mark_clean()

    @property
    def title(self) -> str:
        return self.path.name if self.path else "Untitled"

    def layer(self, layer_id: str) -> Layer:
        for layer in self._layers:
            if layer.id == layer_id:
                return layer
        raise EditError(f"there is no layer with id {layer_id!r} in this document")

    def index_of(self, layer_id: str) -> int:
        return self._layers.index(self.layer(layer_id))

    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """The visible image (RGBA) inside `rect`, the whole canvas by default."""
        return flatten(self._layers, rect or self.rect)

    def selection_or_canvas(self) -> Rect:
        """Where a generation goes: the selection if there is one, else the whole canvas."""
        return self._selection or self.rect

    def target_pixels(self, target: str) -> tuple[np.ndarray, int, int]:
        """The array a paint target names (a layer id or MASK) and its origin on the canvas."""
        if target == MASK:
            return self._mask, 0, 0
        layer = self.layer(target)
        return layer.pixels, layer.x, layer.y

    # ------------------------------------------------------------ changing (used by commands)
    def _changed(self, change: Change) -> None:
        self.revision += 1
        self.modified = True
        self.changed.emit(change)

    def insert_layer(self, index: int, layer: Layer) -> None:
        if any(existing.id == layer.id for existing in self._layers):
            raise EditError(f"layer {layer.name!r} is already in this document")
        index = max(0, min(index, len(self._layers)))
        if not layer.groups and 0 < index < len(self._layers):
            # a new layer between two layers of one group joins it, as in Krita: the group stays in one piece
            below, above = self._layers[index - 1].groups, self._layers[index].groups
            shared = 0
            while shared < min(len(below), len(above)) and below[shared].id == above[shared].id:
                shared += 1
            layer.groups = below[:shared]
        self._layers.insert(index, layer)
        self._active_id = layer.id
        self._changed(Change("layers", layer.id))
        self.changed.emit(Change("active", layer.id))

    def remove_layer(self, layer_id: str) -> tuple[int, Layer]:
        index = self.index_of(layer_id)
        layer = self._layers.pop(index)
        if self._active_id == layer_id:
            neighbour = self._layers[max(0, index - 1)] if self._layers else None
            self._active_id = neighbour.id if neighbour else None
            self.changed.emit(Change("active", self._active_id))
        self._changed(Change("layers", layer_id))
        return index, layer

    def move_layer(self, layer_id: str, index: int) -> None:
        layer = self._layers.pop(self.index_of(layer_id))
        self._layers.insert(max(0, min(index, len(self._layers))), layer)
        self._changed(Change("layers", layer_id))

    def update_layer(self, layer_id: str, **values) -> dict:
        """Set name, visible, opacity, x, y, pixels, parameters or steering; returns the old values."""
        layer = self.layer(layer_id)
        allowed = {"name", "visible", "opacity", "x", "y", "pixels", "parameters", "blend", "groups", "steering"}
        unknown = set(values) - allowed
        if unknown:
            raise EditError(f"a layer has no property {', '.join(sorted(unknown))}")
        if "pixels" in values:  # checked before anything is set, so a refusal changes nothing
            pixels = values["pixels"]
            if not (isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 4):
                values["pixels"] = as_rgba(pixels)
        old_bounds = layer.bounds
        old = {key: getattr(layer, key) for key in values}
        for key, value in values.items():
            setattr(layer, key, value)
        layer.__post_init__()  # re-validate and normalise
        self._changed(Change("layers", layer_id))
        if {"pixels", "x", "y", "visible", "opacity", "blend", "groups"} & set(values):
            self.changed.emit(Change("pixels", layer_id, old_bounds.union(layer.bounds)))
        return old

    def set_active_layer(self, layer_id: str | None) -> None:
        """Not an edit (nothing to undo, not a modification), as in Krita."""
        if layer_id is not None:
            self.layer(layer_id)
        if layer_id != self._active_id:
            self._active_id = layer_id
            self.changed.emit(Change("active", layer_id))

    def replace_mask(self, mask: np.ndarray, rect: Rect | None = None) -> np.ndarray:
        """Put `mask` (the whole mask, or the part at `rect`) in place; returns what was there."""
        area = rect or self.rect
        if mask.shape != (area.height, area.width) or mask.dtype != np.uint8:
            raise EditError(f"the mask must be {area.width}x{area.height} uint8, got {mask.shape} {mask.dtype}")
        old = self._mask[area.slices()].copy()
        self._mask[area.slices()] = mask
        self._changed(Change("mask", rect=area))
        return old

    def set_selection(self, rect: Rect | None) -> Rect | None:
        """Select `rect` (clipped to the canvas; empty means none); returns the previous selection."""
        old = self._selection
        self._selection = rect.intersect(self.rect) if rect is not None else None
        self._changed(Change("selection"))
        return old

    def notify_pixels(self, target: str, rect: Rect) -> None:
        """Say that pixels of a target (layer id or MASK) changed in place; `rect` is in target pixels."""
        _pixels, x, y = self.target_pixels(target)
        if target == MASK:
            self._changed(Change("mask", rect=rect))
        else:
            self._changed(Change("pixels", target, rect.translated(x, y)))

    def resize_canvas(self, width: int, height: int, shift_x: int = 0, shift_y: int = 0) -> None:
        """New canvas size; every layer, the mask and the selection move by (shift_x, shift_y).

        Layer pixels are never cut: they keep what lies outside the canvas, so shrinking is undoable.
        """
        check_canvas_size(width, height)
        for layer in self._layers:
            layer.x += shift_x
            layer.y += shift_y
        mask = np.zeros((height, width), np.uint8)
        paste(mask, self._mask, shift_x, shift_y)
        self._mask = mask
        self._width, self._height = int(width), int(height)
        if self._selection is not None:
            self._selection = self._selection.translated(shift_x, shift_y).intersect(self.rect)
        self._changed(Change("size"))


def check_canvas_size(width: int, height: int) -> None:
    """Refuse a canvas this machine cannot hold, naming the limit (the same one as for opening images)."""
    if not isinstance(width, (int, np.integer)) or not isinstance(height, (int, np.integer)) or width < 1 or height < 1:
        raise EditError(f"a canvas needs a width and height of at least 1 pixel, got {width}x{height}")
    try:
        check_image_size(int(width), int(height), "The canvas", "Make it smaller (expand by less, or crop).")
    except ImageLoadError as error:
        raise EditError(str(error)) from None
