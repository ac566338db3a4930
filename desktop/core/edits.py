"""The undoable edits of a document's layers, mask, selection and size (painting is in stroke.py).

Use them through the document's history, so every edit can be undone:
    document.history.do(AddLayer(Layer.blank("Sky", 512, 512)))
A command that cannot be done raises EditError before it changes anything.
"""

from __future__ import annotations

import numpy as np

from desktop.core import blending
from desktop.core.compositing import flatten, mask_bounds
from desktop.core.document import Document, EditError, Layer, check_canvas_size
from desktop.core.geometry import Rect
from desktop.core.history import Command

LAYER_NAME_CHARS = 40


def _gesture_match(mine, theirs) -> bool:
    return mine is not None and mine == theirs


class AddLayer(Command):
    """Put a new layer above the active one (or at `index`) and make it active."""

    def __init__(self, layer: Layer, index: int | None = None, label: str | None = None) -> None:
        self.layer = layer
        self.index = index
        self.label = label or f"Add layer {layer.name}"
        self._previous_active: str | None = None

    def do(self, document: Document) -> None:
        active = document.active_layer
        self._previous_active = active.id if active else None
        if self.index is None:
            self.index = document.index_of(active.id) + 1 if active else len(document.layers)
        document.insert_layer(self.index, self.layer)

    def undo(self, document: Document) -> None:
        document.remove_layer(self.layer.id)
        document.set_active_layer(self._previous_active)


def layer_name_from_prompt(prompt: str) -> str:
    """A layers-panel name for a generation: the prompt's first line, shortened at a word."""
    text = " ".join(prompt.split())
    if not text:
        return "Generated"
    if len(text) <= LAYER_NAME_CHARS:
        return text
    cut = text[:LAYER_NAME_CHARS].rsplit(" ", 1)[0] or text[:LAYER_NAME_CHARS]
    return cut + "…"


class AddGeneratedLayer(AddLayer):
    """A generation result arrives as a new layer named after its prompt, placed at `rect`'s corner."""

    def __init__(self, pixels: np.ndarray, prompt: str, x: int = 0, y: int = 0, parameters: str = "") -> None:
        name = layer_name_from_prompt(prompt)
        super().__init__(Layer(name, pixels, x, y, parameters=parameters), label=f"Generate: {name}")


class DuplicateLayer(Command):
    """Copy a layer, with its pixels and properties, just above it."""

    label = "Duplicate layer"

    def __init__(self, layer_id: str) -> None:
        self.layer_id = layer_id
        self.copy: Layer | None = None  # made once, so a redo brings back the same layer id

    def do(self, document: Document) -> None:
        source = document.layer(self.layer_id)
        if self.copy is None:
            self.copy = source.copy(f"{source.name} copy")
        self._previous_active = document.active_layer.id if document.active_layer else None
        document.insert_layer(document.index_of(self.layer_id) + 1, self.copy)

    def undo(self, document: Document) -> None:
        document.remove_layer(self.copy.id)
        document.set_active_layer(self._previous_active)


class DeleteLayer(Command):
    """Remove a layer; the last one stays (a canvas always has a layer to paint on)."""

    label = "Delete layer"

    def __init__(self, layer_id: str) -> None:
        self.layer_id = layer_id
        self._removed: tuple[int, Layer] | None = None

    def do(self, document: Document) -> None:
        document.layer(self.layer_id)
        if len(document.layers) == 1:
            raise EditError("the last layer cannot be deleted; add another layer first")
        self._previous_active = document.active_layer.id if document.active_layer else None
        self._removed = document.remove_layer(self.layer_id)

    def undo(self, document: Document) -> None:
        index, layer = self._removed
        document.insert_layer(index, layer)
        document.set_active_layer(self._previous_active)
        self._removed = None

    @property
    def nbytes(self) -> int:
        return self._removed[1].pixels.nbytes if self._removed else 0


class _SetLayerValue(Command):
    """Set one property of one layer; merges with the next change of the same gesture (a slider drag)."""

    key = ""

    def __init__(self, layer_id: str, value, gesture=None) -> None:
        self.layer_id, self.value, self.gesture = layer_id, value, gesture
        self._old = None

    def check(self, document: Document) -> None:
        document.layer(self.layer_id)

    def do(self, document: Document) -> None:
        self.check(document)
        self._old = document.update_layer(self.layer_id, **{self.key: self.value})[self.key]

    def undo(self, document: Document) -> None:
        document.update_layer(self.layer_id, **{self.key: self._old})

    def merge(self, other: Command) -> bool:
        if type(other) is type(self) and other.layer_id == self.layer_id and _gesture_match(self.gesture, other.gesture):
            self.value = other.value
            return True
        return False


class RenameLayer(_SetLayerValue):
    label, key = "Rename layer", "name"

    def check(self, document: Document) -> None:
        super().check(document)
        self.value = " ".join(str(self.value).split())
        if not self.value:
            raise EditError("a layer name cannot be empty; type a name")


class SetLayerVisibility(_SetLayerValue):
    label, key = "Show/hide layer", "visible"


class SetLayerOpacity(_SetLayerValue):
    label, key = "Layer opacity", "opacity"

    def check(self, document: Document) -> None:
        super().check(document)
        if not 0.0 <= float(self.value) <= 1.0:
            raise EditError(f"opacity goes from 0 to 1 (0% to 100%), got {self.value}")


class SetLayerBlend(_SetLayerValue):
    """Choose a layer's blend mode: one of the compositor's (desktop.core.blending.MODES)."""

    label, key = "Layer blend mode", "blend"

    def check(self, document: Document) -> None:
        super().check(document)
        if self.value not in blending.MODES:
            names = ", ".join(mode.label for mode in blending.MODES.values())
            raise EditError(f"Atelier cannot draw the blend mode {self.value!r}; choose one of {names}")


class SetLayerSteering(_SetLayerValue):
    """Make a layer a control layer, reference or region (a spec), change that role, or make it picture again (None)."""

    key = "steering"

    def __init__(self, layer_id: str, value, gesture=None, label: str = "") -> None:
        super().__init__(layer_id, value, gesture)
        self.label = label or ("Picture layer" if value is None else "Layer steering")


class MoveLayer(Command):
    """Change a layer's place in the stack (0 is the bottom): drag and drop in the layers panel."""

    label = "Reorder layers"

    def __init__(self, layer_id: str, index: int) -> None:
        self.layer_id, self.index = layer_id, index

    def do(self, document: Document) -> None:
        self._old_index = document.index_of(self.layer_id)
        document.move_layer(self.layer_id, self.index)

    def undo(self, document: Document) -> None:
        document.move_layer(self.layer_id, self._old_index)


class OffsetLayer(Command):
    """Move a layer's pixels on the canvas (the move tool); one drag is one step."""

    label = "Move layer"

    def __init__(self, layer_id: str, dx: int, dy: int, gesture=None) -> None:
        self.layer_id, self.dx, self.dy, self.gesture = layer_id, int(dx), int(dy), gesture

    def do(self, document: Document) -> None:
        layer = document.layer(self.layer_id)
        document.update_layer(self.layer_id, x=layer.x + self.dx, y=layer.y + self.dy)

    def undo(self, document: Document) -> None:
        layer = document.layer(self.layer_id)
        document.update_layer(self.layer_id, x=layer.x - self.dx, y=layer.y - self.dy)

    def merge(self, other: Command) -> bool:
        if isinstance(other, OffsetLayer) and other.layer_id == self.layer_id and _gesture_match(self.gesture, other.gesture):
            self.dx, self.dy = self.dx + other.dx, self.dy + other.dy
            return True
        return False


class MergeDown(Command):
    """Bake a layer into the one below it, as they look together; the lower layer keeps its name."""

    label = "Merge down"

    def __init__(self, layer_id: str) -> None:
        self.layer_id = layer_id

    def do(self, document: Document) -> None:
        index = document.index_of(self.layer_id)
        if index == 0:
            raise EditError("the bottom layer has no layer below it to merge into")
        upper, lower = document.layers[index], document.layers[index - 1]
        if not (upper.visible and lower.visible):
            raise EditError("merge down needs both layers visible; show them first (a hidden layer would be lost)")
        if [g.id for g in upper.groups] != [g.id for g in lower.groups]:
            raise EditError(f"{upper.name!r} and {lower.name!r} are in different groups; merging would take a layer "
                            "out of its group, so move it next to a layer of its own group first")
        area = upper.bounds.union(lower.bounds)
        merged = flatten([lower, upper], area)
        self._lower_id = lower.id
        self._previous_active = document.active_layer.id if document.active_layer else None
        self._old = document.update_layer(lower.id, pixels=merged, x=area.x, y=area.y, opacity=1.0)
        self._removed = document.remove_layer(upper.id)
        document.set_active_layer(lower.id)

    def undo(self, document: Document) -> None:
        document.update_layer(self._lower_id, **self._old)
        document.insert_layer(*self._removed)
        document.set_active_layer(self._previous_active)

    @property
    def nbytes(self) -> int:
        return self._removed[1].pixels.nbytes + self._old["pixels"].nbytes if hasattr(self, "_removed") else 0


class SetSelection(Command):
    """Select a rectangle (None selects nothing): what generations fill and img2img reads."""

    changes_content = False  # selecting alone does not make a canvas worth saving (Photoshop, Krita)

    def __init__(self, rect: Rect | None) -> None:
        self.rect = rect
        self.label = "Select none" if rect is None else "Select rectangle"

    def do(self, document: Document) -> None:
        self._old = document.set_selection(self.rect)

    def undo(self, document: Document) -> None:
        document.set_selection(self._old)


class SetMask(Command):
    """Replace the inpaint mask; keeps only the region that differs, for undo."""

    def __init__(self, mask: np.ndarray, label: str = "Set mask") -> None:
        self.mask, self.label = mask, label
        self._region: Rect | None = None
        self._old = self._new = None

    def do(self, document: Document) -> None:
        if self.mask is not None:
            if self.mask.shape != document.mask.shape:
                raise EditError(f"the mask must be {document.width}x{document.height}, got {self.mask.shape[::-1]}")
            self._region = mask_bounds(self.mask != document.mask)
            if self._region is not None:
                self._new = self.mask[self._region.slices()].astype(np.uint8)
            self.mask = None  # the full array is not kept: the region is enough
        if self._region is not None:
            self._old = document.replace_mask(self._new, self._region)

    def undo(self, document: Document) -> None:
        if self._region is not None:
            document.replace_mask(self._old, self._region)

    @property
    def nbytes(self) -> int:
        return 2 * self._region.area if self._region else 0


def clear_mask(document: Document) -> SetMask:
    return SetMask(np.zeros_like(document.mask), "Clear mask")


class InvertMask(Command):
    """Swap masked and unmasked: inverting twice gives back the same mask, so nothing is stored."""

    label = "Invert mask"

    def do(self, document: Document) -> None:
        document.replace_mask(255 - document.mask)

    undo = do


class ResizeCanvas(Command):
    """New canvas size; the content moves by (shift_x, shift_y). Layer pixels are never cut."""

    def __init__(self, width: int, height: int, shift_x: int = 0, shift_y: int = 0, label: str = "Resize canvas") -> None:
        self.width, self.height, self.shift_x, self.shift_y, self.label = width, height, shift_x, shift_y, label

    def do(self, document: Document) -> None:
        check_canvas_size(self.width, self.height)
        self._old_size = (document.width, document.height)
        self._old_selection = document.selection
        region = mask_bounds(document.mask)
        self._old_mask = (region, document.mask[region.slices()].copy()) if region else None
        document.resize_canvas(self.width, self.height, self.shift_x, self.shift_y)

    def undo(self, document: Document) -> None:
        document.resize_canvas(*self._old_size, -self.shift_x, -self.shift_y)
        if self._old_mask is not None:
            mask = np.zeros_like(document.mask)
            region, values = self._old_mask
            mask[region.slices()] = values
            document.replace_mask(mask)
        document.set_selection(self._old_selection)

    @property
    def nbytes(self) -> int:
        return self._old_mask[1].nbytes if getattr(self, "_old_mask", None) else 0


def expand_canvas(document: Document, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0) -> ResizeCanvas:
    """Room for outpainting: grow the canvas by whole pixels on each side (refused past the size limit)."""
    pads = (left, top, right, bottom)
    if any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in pads):
        raise EditError(f"expand by whole pixels, zero or more on each side; got {pads}")
    width, height = document.width + left + right, document.height + top + bottom
    check_canvas_size(width, height)
    return ResizeCanvas(width, height, left, top, "Expand canvas")


def crop_canvas(rect: Rect) -> ResizeCanvas:
    """Crop the canvas to `rect` (crop to selection); undo brings everything back."""
    if rect.is_empty():
        raise EditError("select an area first: cropping to an empty selection would leave nothing")
    return ResizeCanvas(rect.width, rect.height, -rect.x, -rect.y, "Crop canvas")
