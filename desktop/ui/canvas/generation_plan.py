"""What one generation from the canvas reads, at what size it runs, and where its results go."""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop.core.canvas_inputs import CanvasInputs, canvas_inputs, generation_blocker
from desktop.core.canvas_steering import read_steering
from desktop.core.document import Document, EditError
from desktop.core.geometry import Rect
from desktop.core.messages import RgbImage
from desktop.core.params import DEFAULT_MAX_PIXELS, MAX_SIDE, MIN_SIDE, SIZE_STEP, GenerationParams

NO_CANVAS = "Open an image (Ctrl+O) or make one with Text to image first: this mode starts from the canvas"


@dataclass(frozen=True)
class CanvasJob:
    """A submitted generation's document and inputs: its results become layers there."""

    document: Document
    inputs: CanvasInputs


def _step(value: float) -> int:
    return max(SIZE_STEP, int(round(value / SIZE_STEP)) * SIZE_STEP)


def generation_size(rect: Rect) -> tuple[int, int]:
    """The size to generate for an area: its own in multiples of 8, the short side at least 64.

    The result is scaled back to the area exactly; past the limits the area is refused, naming them.
    """
    scale = max(1.0, MIN_SIDE / max(1, min(rect.width, rect.height)))
    width, height = max(MIN_SIDE, _step(rect.width * scale)), max(MIN_SIDE, _step(rect.height * scale))
    if width > MAX_SIDE or height > MAX_SIDE or width * height > DEFAULT_MAX_PIXELS:
        side = int(DEFAULT_MAX_PIXELS ** 0.5)
        raise EditError(
            f"The area to fill is {rect.width} × {rect.height} pixels; one generation fills at most {side} × {side} "
            f"({DEFAULT_MAX_PIXELS:,} pixels, {MAX_SIDE} per side). Select a smaller area (M) and generate into it"
        )
    return width, height


def blocker(document: Document | None, mode: str) -> str | None:
    """Why Generate cannot run `mode` on this canvas now (a sentence to show), or None."""
    if document is None:
        return None if mode == "txt2img" else NO_CANVAS
    reason = generation_blocker(document, mode)
    if reason:
        return reason
    try:
        generation_size(document.selection_or_canvas())
    except EditError as error:
        return str(error)
    return None


def free_size(document: Document | None, mode: str, hires_scale: float = 0.0) -> bool:
    """Whether the Size fields are the user's: text to image with no selection (and no hires fix, whose second
    pass fills the area). Otherwise the area sets them."""
    return mode == "txt2img" and not hires_scale and (document is None or document.selection is None)


def prepare(document: Document, params: GenerationParams) -> tuple[CanvasJob, GenerationParams, RgbImage | None, bytes | None]:
    """Read the canvas for `params.mode`: the job's target, params at the area's size, init image and mask.

    Raises EditError with the reason when the canvas cannot run it.
    """
    inputs = canvas_inputs(document, params.mode)
    width, height = generation_size(inputs.rect)
    if free_size(document, params.mode, params.hires_scale) and (params.width, params.height) != (width, height):
        # text to image at a size of its own (typed, or restored by Reuse settings): a layer of exactly that
        # size at the canvas's corner; the canvas grows to hold it (canvas_inputs.add_result)
        inputs = replace(inputs, rect=Rect(0, 0, params.width, params.height))
        width, height = params.width, params.height
    elif params.hires_scale:  # the hires fix fills the area with its second pass: the first runs 1/scale as large
        width, height = (max(MIN_SIDE, _step(side / params.hires_scale)) for side in (width, height))
    params = params.replace(width=width, height=height)
    init = None
    if inputs.image is not None:
        init = RgbImage(inputs.rect.width, inputs.rect.height, inputs.image.tobytes())
    return CanvasJob(document, inputs), params, init, inputs.mask_bytes()


def steering(document: Document, target: CanvasJob, params: GenerationParams) -> tuple[GenerationParams, dict]:
    """params with the canvas's enabled control/reference/region layers, and the GenerateJob fields holding
    their pixels over the job's area (desktop/core/canvas_steering.py)."""
    return read_steering(document, target.inputs.rect, params)
