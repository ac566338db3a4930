"""What a generation reads from the canvas, and how each result comes back as a layer.

    inputs = canvas_inputs(document, "inpaint")       # EditError with the reason if it cannot run
    ... the engine makes an RGB image of inputs.rect's size (any size: it is resized to fit) ...
    add_result(document, inputs, image, prompt)         # one undoable new layer per image

txt2img and img2img fill the selection (or the canvas); inpaint repaints the masked pixels inside
it and leaves every other pixel exactly as it was; outpaint fills the transparent part of it
(expand the canvas first with `edits.expand_canvas`, and the new area is transparent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from desktop.core.canvas_steering import picture, picture_layers, steering_blocker
from desktop.core.compositing import fill_transparent, inpaint_alpha, outpaint_alpha, rgba_to_rgb
from desktop.core.document import Document, EditError
from desktop.core.edits import AddGeneratedLayer, ResizeCanvas
from desktop.core.geometry import Rect
from desktop.core.history import Command
from desktop.core.params import MODES

DEFAULT_FEATHER = 8.0  # pixels over which a repainted area fades into the old one


@dataclass(frozen=True)
class CanvasInputs:
    """The area a generation fills and what it starts from (private copies of the pixels)."""

    mode: str
    rect: Rect
    image: np.ndarray | None = None  # H x W x 3 uint8: what is visible there (None for txt2img)
    mask: np.ndarray | None = None  # H x W uint8, 255 = repaint (inpaint and outpaint)

    def mask_bytes(self) -> bytes | None:
        """The mask as GenerateJob takes it: 8-bit, row by row."""
        return None if self.mask is None else np.ascontiguousarray(self.mask).tobytes()


def generation_blocker(document: Document, mode: str) -> str | None:
    """Why Generate must stay disabled for `mode` (a sentence to show), or None when it can run."""
    if mode not in MODES:
        return f"unknown mode {mode!r}: choose one of {', '.join(MODES)}"
    rect = document.selection_or_canvas()
    if mode in ("img2img", "inpaint", "outpaint") and not any(l.visible and l.opacity > 0 for l in picture_layers(document)):
        return "Nothing is visible to start from: show a layer, or use txt2img"
    if mode == "inpaint":
        if not document.mask.any():
            return "Paint a mask over the part to repaint first: inpaint changes only masked pixels"
        if not document.mask[rect.slices()].any():
            return "The mask lies outside the selection: paint inside it, or select none"
    if mode == "outpaint" and picture(document, rect)[..., 3].min() == 255:
        where = "the selection" if document.selection else "the canvas"
        return f"There is no empty area in {where} to fill: expand the canvas first (drag an edge or Expand by N px)"
    return steering_blocker(document)


def canvas_inputs(document: Document, mode: str) -> CanvasInputs:
    """Gather what `mode` needs from the document now; refuses with the blocker's reason."""
    reason = generation_blocker(document, mode)
    if reason:
        raise EditError(reason)
    rect = document.selection_or_canvas()
    if mode == "txt2img":
        return CanvasInputs(mode, rect)
    visible = picture(document, rect)  # steering layers (controls, references, regions) are not the picture
    if mode == "img2img":
        return CanvasInputs(mode, rect, rgba_to_rgb(visible))
    if mode == "inpaint":
        return CanvasInputs(mode, rect, rgba_to_rgb(visible), document.mask[rect.slices()].copy())
    # outpaint: repaint whatever is not opaque, starting from the colours around it
    return CanvasInputs(mode, rect, fill_transparent(visible), 255 - visible[..., 3])


def result_alpha(mode: str, mask: np.ndarray | None, shape: tuple[int, int],
                 feather: float = DEFAULT_FEATHER) -> np.ndarray:
    """How much of a result shows over the old picture, pixel by pixel: the area that changes.

    Inpaint: the feathered mask, so every unmasked pixel stays exact. Outpaint: opaque over the empty
    area, fading outward into the old image. Other modes: all of it.
    """
    if mode == "inpaint" and mask is not None:
        return inpaint_alpha(mask, feather)
    if mode == "outpaint" and mask is not None:
        return outpaint_alpha(mask, feather)
    return np.full(shape, 255, np.uint8)


def _resized(pixels: np.ndarray, width: int, height: int, method=Image.LANCZOS) -> np.ndarray:
    if pixels.shape[:2] == (height, width):
        return pixels
    return np.asarray(Image.fromarray(pixels).resize((width, height), method))


def result_pixels(inputs: CanvasInputs, generated: np.ndarray, feather: float = DEFAULT_FEATHER) -> np.ndarray:
    """The RGBA pixels of the layer a result becomes, sized to `inputs.rect` (alpha: `result_alpha`)."""
    rgb = np.asarray(generated, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise EditError(f"a generated image must be H x W x 3, got shape {rgb.shape}")
    rect = inputs.rect
    rgb = _resized(np.ascontiguousarray(rgb[..., :3]), rect.width, rect.height)  # the engine works in multiples of 8
    pixels = np.empty((rect.height, rect.width, 4), np.uint8)
    pixels[..., :3] = rgb
    pixels[..., 3] = result_alpha(inputs.mode, inputs.mask, (rect.height, rect.width), feather)
    return pixels


def composite_result(mode: str, source: np.ndarray | None, mask: np.ndarray | None, generated: np.ndarray,
                     feather: float = DEFAULT_FEATHER) -> np.ndarray:
    """The picture a person sees of a result (what outputs and the gallery keep), at the generated size.

    Inpaint and outpaint: the generated pixels through `result_alpha` over the source the job read, so
    nothing outside the repainted area differs from the canvas; other modes: the generated pixels.
    """
    if mode not in ("inpaint", "outpaint") or source is None or mask is None:
        return generated
    height, width = generated.shape[:2]
    alpha = result_alpha(mode, mask, mask.shape, feather)
    weight = _resized(alpha, width, height, Image.BILINEAR)[..., None].astype(np.float32) / 255.0
    under = _resized(np.ascontiguousarray(source[..., :3]), width, height).astype(np.float32)
    mixed = generated[..., :3].astype(np.float32) * weight + under * (1.0 - weight)
    return np.rint(mixed).astype(np.uint8)


def preview_pixels(inputs: CanvasInputs, preview: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """A live preview as RGBA over `inputs.rect`, transparent outside the area the result will change.

    `alpha` is `result_alpha` for these inputs (pass it to skip recomputing it at every step).
    """
    rect = inputs.rect
    pixels = np.empty((rect.height, rect.width, 4), np.uint8)
    pixels[..., :3] = _resized(np.ascontiguousarray(preview[..., :3]), rect.width, rect.height, Image.BILINEAR)
    pixels[..., 3] = result_alpha(inputs.mode, inputs.mask, (rect.height, rect.width)) if alpha is None else alpha
    return pixels


class AddGrowingCanvas(Command):
    """A result larger than the canvas (text to image at a size of one's own): the canvas grows to hold it,
    and both undo as one step."""

    def __init__(self, resize: ResizeCanvas, add: AddGeneratedLayer) -> None:
        self.resize, self.add = resize, add
        self.label = add.label

    def do(self, document: Document) -> None:
        self.resize.do(document)
        try:
            self.add.do(document)
        except Exception:
            self.resize.undo(document)
            raise

    def undo(self, document: Document) -> None:
        self.add.undo(document)
        self.resize.undo(document)

    @property
    def nbytes(self) -> int:
        return self.resize.nbytes + self.add.nbytes


def add_result(
    document: Document,
    inputs: CanvasInputs,
    generated: np.ndarray,
    prompt: str,
    parameters: str = "",
    feather: float = DEFAULT_FEATHER,
) -> AddGeneratedLayer:
    """Put one generated image on the canvas as a new layer named after its prompt (undoable)."""
    pixels = result_pixels(inputs, generated, feather)
    command = AddGeneratedLayer(pixels, prompt, inputs.rect.x, inputs.rect.y, parameters)
    if not document.rect.contains(inputs.rect):
        width, height = max(document.width, inputs.rect.right), max(document.height, inputs.rect.bottom)
        document.history.do(AddGrowingCanvas(ResizeCanvas(width, height, label="Grow canvas"), command))
    else:
        document.history.do(command)
    return command
