"""What a generation reads from the canvas's steering layers: control layers, references and regions.

    params, fields = read_steering(document, rect, params)   # fields: GenerateJob's steering pixels
    picture_layers(document)                                 # the layers that make the picture

A layer with a steering role steers; it is never part of the picture a generation starts from (a scribble
or a region blob is not content). Only enabled roles go into the job, in stack order (bottom first), each
spec carrying its layer's name for the image's metadata.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from desktop.core.compositing import crop, flatten
from desktop.core.document import Document, Layer
from desktop.core.geometry import Rect
from desktop.core.messages import GrayImage, RgbaImage
from desktop.core.params import GenerationParams
from desktop.core.steering import CANVAS_LAYER_NAME, ControlSpec, ReferenceSpec, RegionSpec


def picture_layers(document: Document) -> list[Layer]:
    """The layers that make the picture: every layer without a steering role."""
    return [layer for layer in document.layers if layer.steering is None]


def picture(document: Document, rect: Rect) -> np.ndarray:
    """The visible picture inside `rect` (RGBA), without the steering layers."""
    return flatten(picture_layers(document), rect)


def _rgba(pixels: np.ndarray) -> RgbaImage:
    pixels = np.ascontiguousarray(pixels)
    return RgbaImage(pixels.shape[1], pixels.shape[0], pixels.tobytes())


def control_pixels(document: Document, layer: Layer, rect: Rect) -> np.ndarray:
    """What a control layer shows over `rect`: its own pixels, or the visible picture when its source is the canvas."""
    if layer.steering.source == "canvas":
        return picture(document, rect)
    return crop(layer.pixels, rect.translated(-layer.x, -layer.y))


def region_mask(layer: Layer, rect: Rect) -> np.ndarray:
    """Where a region layer is painted inside `rect` (alpha of at least half): 255 inside, 0 outside."""
    alpha = crop(layer.pixels, rect.translated(-layer.x, -layer.y))[..., 3]
    return np.where(alpha >= 128, 255, 0).astype(np.uint8)


def steering_layers(document: Document, kind: type) -> list[Layer]:
    return [layer for layer in document.layers if isinstance(layer.steering, kind) and layer.steering.enabled]


def read_steering(document: Document, rect: Rect, params: GenerationParams) -> tuple[GenerationParams, dict]:
    """params with the enabled control/reference/region specs, and the GenerateJob fields with their pixels."""
    controls, control_images = [], []
    for layer in steering_layers(document, ControlSpec):
        name = CANVAS_LAYER_NAME if layer.steering.source == "canvas" else layer.name
        controls.append(dataclasses.replace(layer.steering, layer=name))
        control_images.append(_rgba(control_pixels(document, layer, rect)))
    references, reference_images = [], []
    for layer in steering_layers(document, ReferenceSpec):
        references.append(dataclasses.replace(layer.steering, layer=layer.name))
        reference_images.append(_rgba(layer.pixels))  # the whole picture the layer holds, wherever it lies
    regions, region_masks = [], []
    for layer in steering_layers(document, RegionSpec):
        mask = region_mask(layer, rect)
        if not mask.any():
            continue  # painted outside the area that is generated: nothing for it to steer
        regions.append(dataclasses.replace(layer.steering, layer=layer.name))
        region_masks.append(GrayImage(mask.shape[1], mask.shape[0], np.ascontiguousarray(mask).tobytes()))
    params = params.replace(controls=tuple(controls), references=tuple(references), regions=tuple(regions))
    return params, {"control_images": tuple(control_images), "reference_images": tuple(reference_images),
                    "region_masks": tuple(region_masks)}


def steering_blocker(document: Document) -> str | None:
    """Why the enabled steering layers cannot run (a sentence), or None."""
    for layer in document.layers:
        spec = layer.steering
        if spec is None or not spec.enabled:
            continue
        if isinstance(spec, ControlSpec) and not spec.model:
            return f"Control layer {layer.name!r} has no ControlNet chosen: pick one in its settings, or switch it off"
        if isinstance(spec, ReferenceSpec) and not spec.model:
            return f"Reference layer {layer.name!r} has no IP-Adapter chosen: pick one in its settings, or switch it off"
        if isinstance(spec, RegionSpec) and not spec.prompt.strip():
            return f"Region layer {layer.name!r} has no prompt: type one in its settings, or switch it off"
    return None
