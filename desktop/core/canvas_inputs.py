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
from desktop.core.edits import AddGeneratedLayer
from desktop.core.geometry import Rect
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


def result_pixels(inputs: CanvasInputs, generated: np.ndarray, feather: float = DEFAULT_FEATHER) -> np.ndarray:
    """The RGBA pixels of the layer a result becomes, sized to `inputs.rect`.

    Inpaint: alpha is the feathered mask, so over the old layers every unmasked pixel stays exact.
    Outpaint: opaque over the empty area, fading outward into the old image.
    """
    rgb = np.asarray(generated, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise EditError(f"a generated image must be H x W x 3, got shape {rgb.shape}")
    rect = inputs.rect
    if rgb.shape[:2] != (rect.height, rect.width):  # the engine works in multiples of 8: fit it back
        rgb = np.asarray(Image.fromarray(rgb[..., :3]).resize((rect.width, rect.height), Image.LANCZOS))
    pixels = np.empty((rect.height, rect.width, 4), np.uint8)
    pixels[..., :3] = rgb[..., :3]
    if inputs.mode == "inpaint":
        pixels[..., 3] = inpaint_alpha(inputs.mask, feather)
    elif inputs.mode == "outpaint":
        pixels[..., 3] = outpaint_alpha(inputs.mask, feather)
    else:
        pixels[..., 3] = 255
    return pixels


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
    document.history.do(command)
    return command
