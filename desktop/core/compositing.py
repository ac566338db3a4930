"""Pixel math for the canvas: flattening layers, brush dabs, mask feathering, inpaint and outpaint.

Every image here is a numpy uint8 array: RGBA is H x W x 4 with straight (not premultiplied) alpha,
a mask is H x W where 255 means "repaint this pixel" and 0 means "keep it".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Protocol

import numpy as np
from PIL import Image, ImageFilter

from desktop.core import blending
from desktop.core.blending import NORMAL
from desktop.core.geometry import Rect

# Rows flattened at a time: bounds the float scratch memory on huge canvases (8192 wide: ~64 MB).
_STRIP_ROWS = 512


class LayerLike(Protocol):
    pixels: np.ndarray
    x: int
    y: int
    visible: bool
    opacity: float
    # optional: blend (an OpenRaster composite-op) and groups (desktop.core.document.Group, outermost first)


@dataclass
class _GroupNode:
    group: object
    children: list


def _tree(layers: list, depth: int = 0) -> list:
    """Bottom-first layers into nested lists: consecutive layers sharing a group at `depth` become one node."""
    out: list = []
    index = 0
    while index < len(layers):
        groups = getattr(layers[index], "groups", ())
        if len(groups) <= depth:
            out.append(layers[index])
            index += 1
            continue
        group, end = groups[depth], index + 1
        while end < len(layers) and len(getattr(layers[end], "groups", ())) > depth and \
                layers[end].groups[depth].id == group.id:
            end += 1
        out.append(_GroupNode(group, _tree(layers[index:end], depth + 1)))
        index = end
    return out


def _simple(layer) -> bool:
    return getattr(layer, "blend", NORMAL) == NORMAL and not getattr(layer, "groups", ())


# ------------------------------------------------------------------ flattening
def flatten(layers: Iterable[LayerLike], rect: Rect) -> np.ndarray:
    """Composite visible layers, bottom first, with their opacity, blend mode and groups, inside `rect`."""
    layers = [layer for layer in layers if layer.visible and layer.opacity > 0]
    out = np.zeros((rect.height, rect.width, 4), np.uint8)
    if len(layers) == 1 and layers[0].opacity >= 1.0 and _simple(layers[0]):
        # One opaque-opacity layer is its own composite: copy it so the result is byte-exact.
        paste(out, layers[0].pixels, layers[0].x - rect.x, layers[0].y - rect.y)
        return out
    tree = _tree(layers)
    for top in range(0, rect.height, _STRIP_ROWS):
        strip = Rect(rect.x, rect.y + top, rect.width, min(_STRIP_ROWS, rect.height - top))
        out[top : top + strip.height] = _flatten_strip(tree, strip)
    return out


def _flatten_strip(tree: list, rect: Rect) -> np.ndarray:
    # Accumulate premultiplied colour so each layer costs one multiply-add; divide once at the end.
    color = np.zeros((rect.height, rect.width, 3), np.float32)
    alpha = np.zeros((rect.height, rect.width, 1), np.float32)
    _composite_nodes(tree, rect, color, alpha)
    straight = np.divide(color, alpha, out=np.zeros_like(color), where=alpha > 0)
    result = np.empty((rect.height, rect.width, 4), np.uint8)
    result[..., :3] = np.rint(np.clip(straight, 0.0, 1.0) * 255.0)
    result[..., 3:] = np.rint(np.clip(alpha, 0.0, 1.0) * 255.0)
    return result


def _composite_nodes(nodes: list, rect: Rect, color: np.ndarray, alpha: np.ndarray) -> None:
    for node in nodes:
        if isinstance(node, _GroupNode):
            group = node.group
            if not group.visible or group.opacity <= 0:
                continue
            if not group.isolated:  # pass-through: its layers go straight onto what is below
                _composite_nodes(node.children, rect, color, alpha)
                continue
            inner_color, inner_alpha = np.zeros_like(color), np.zeros_like(alpha)
            _composite_nodes(node.children, rect, inner_color, inner_alpha)
            straight = np.divide(inner_color, inner_alpha, out=np.zeros_like(inner_color), where=inner_alpha > 0)
            blending.composite(color, alpha, straight, inner_alpha * float(group.opacity), group.blend)
            continue
        layer = node
        op = getattr(layer, "blend", NORMAL)
        height, width = layer.pixels.shape[:2]
        overlap = Rect(layer.x, layer.y, width, height).intersect(rect)
        mode = blending.mode_of(op)
        if overlap is None and not (mode and mode.clears_outside):
            continue
        if mode is not None and mode.clears_outside:  # the layer counts as transparent where it has no pixels
            src_color = np.zeros_like(color)
            src_alpha = np.zeros_like(alpha)
            if overlap is not None:
                rows, cols = overlap.translated(-rect.x, -rect.y).slices()
                src = layer.pixels[overlap.translated(-layer.x, -layer.y).slices()]
                src_alpha[rows, cols] = src[..., 3:4].astype(np.float32) * (float(layer.opacity) / 255.0)
                src_color[rows, cols] = src[..., :3].astype(np.float32) * (1.0 / 255.0)
            blending.composite(color, alpha, src_color, src_alpha, op)
            continue
        src = layer.pixels[overlap.translated(-layer.x, -layer.y).slices()]
        src_alpha = src[..., 3:4].astype(np.float32) * (float(layer.opacity) / 255.0)
        src_color = src[..., :3].astype(np.float32) * (1.0 / 255.0)
        rows, cols = overlap.translated(-rect.x, -rect.y).slices()
        blending.composite(color[rows, cols], alpha[rows, cols], src_color, src_alpha, op)


def rgba_to_rgb(pixels: np.ndarray, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Put RGBA over a solid colour: what a model sees of a partly transparent canvas."""
    alpha = pixels[..., 3:4].astype(np.float32) / 255.0
    rgb = pixels[..., :3].astype(np.float32) * alpha + np.asarray(background, np.float32) * (1.0 - alpha)
    return np.rint(rgb).astype(np.uint8)


def crop(image: np.ndarray, rect: Rect) -> np.ndarray:
    """The part of `image` inside `rect`; where the rectangle leaves the image the result is zero."""
    out = np.zeros((rect.height, rect.width) + image.shape[2:], image.dtype)
    paste(out, image, -rect.x, -rect.y)
    return out


def paste(target: np.ndarray, source: np.ndarray, x: int, y: int) -> Rect | None:
    """Copy `source` into `target` with its top-left at (x, y), clipped; returns the rectangle written."""
    height, width = source.shape[:2]
    area = Rect(x, y, width, height).intersect(Rect(0, 0, target.shape[1], target.shape[0]))
    if area is not None:
        target[area.slices()] = source[area.translated(-x, -y).slices()]
    return area


# ------------------------------------------------------------------ brush
@dataclass(frozen=True)
class Brush:
    """A round brush: diameter in pixels, hardness 0 (soft) to 1 (hard edge), colour and erase mode."""

    size: float = 20.0
    hardness: float = 0.8
    color: tuple[int, int, int, int] = (0, 0, 0, 255)
    opacity: float = 1.0
    erase: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", float(min(max(self.size, 1.0), 2000.0)))
        object.__setattr__(self, "hardness", float(min(max(self.hardness, 0.0), 1.0)))
        object.__setattr__(self, "opacity", float(min(max(self.opacity, 0.0), 1.0)))
        color = tuple(int(min(max(c, 0), 255)) for c in self.color)
        object.__setattr__(self, "color", color + (255,) * (4 - len(color)))

    @property
    def spacing(self) -> float:
        """Distance between dabs along a stroke: a tenth of the size, as Krita and Photoshop default."""
        return max(0.5, self.size * 0.1)


def dab_coverage(brush: Brush, cx: float, cy: float) -> tuple[Rect, np.ndarray]:
    """Coverage (0..1, float32) of one round dab centred at (cx, cy), and the pixel rectangle it spans."""
    radius = brush.size / 2.0
    left, top = math.floor(cx - radius - 1), math.floor(cy - radius - 1)
    right, bottom = math.ceil(cx + radius + 1), math.ceil(cy + radius + 1)
    ys = np.arange(top, bottom, dtype=np.float32) + 0.5 - cy
    xs = np.arange(left, right, dtype=np.float32) + 0.5 - cx
    distance = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    # The falloff is at least one pixel wide even for a hard brush (the antialiasing), and ends half
    # a pixel past the radius so that a hard dab covers the area of its circle.
    falloff = max(radius * (1.0 - brush.hardness), min(1.0, radius))
    t = np.clip((distance - (radius + 0.5 - falloff)) / falloff, 0.0, 1.0)
    coverage = 1.0 - t * t * (3.0 - 2.0 * t)  # smoothstep
    return Rect(left, top, right - left, bottom - top), coverage.astype(np.float32)


def stroke_points(start: tuple[float, float], end: tuple[float, float], spacing: float, carry: float = 0.0):
    """Dab centres from start (exclusive) to end, `spacing` apart; returns (points, carry for next segment).

    `carry` is the distance already travelled since the last dab, so spacing stays even across
    the many short segments that mouse moves deliver.
    """
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    points = []
    travelled = spacing - carry
    while travelled <= length:
        fraction = travelled / length if length else 0.0
        points.append((start[0] + dx * fraction, start[1] + dy * fraction))
        travelled += spacing
    return points, length - (travelled - spacing)


def apply_coverage(before: np.ndarray, coverage: np.ndarray, brush: Brush) -> np.ndarray:
    """What `before` (RGBA or a mask) becomes under `coverage` of `brush`: the same rule for layers and masks."""
    amount = coverage * brush.opacity
    if before.ndim == 2:  # a mask: painting adds towards 255, erasing scales towards 0
        value = before.astype(np.float32)
        value = value * (1.0 - amount) if brush.erase else value + (255.0 - value) * amount
        return np.rint(value).astype(np.uint8)
    dst_alpha = before[..., 3:4].astype(np.float32) / 255.0
    if brush.erase:
        out = before.copy()
        out[..., 3:4] = np.rint(dst_alpha * (1.0 - amount[..., None]) * 255.0)
        return out
    src_alpha = amount[..., None] * (brush.color[3] / 255.0)
    out_alpha = src_alpha + dst_alpha * (1.0 - src_alpha)
    src = np.asarray(brush.color[:3], np.float32)
    mixed = src * src_alpha + before[..., :3].astype(np.float32) * dst_alpha * (1.0 - src_alpha)
    rgb = np.divide(mixed, out_alpha, out=before[..., :3].astype(np.float32), where=out_alpha > 0)
    out = np.empty_like(before)
    out[..., :3] = np.rint(np.clip(rgb, 0, 255))
    out[..., 3:4] = np.rint(out_alpha * 255.0)
    return out


# ------------------------------------------------------------------ masks
def blur_mask(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a mask (radius is the standard deviation in pixels); edges are extended."""
    if radius <= 0:
        return mask.copy()
    blurred = Image.fromarray(np.ascontiguousarray(mask)).filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(blurred, dtype=np.uint8).copy()


def invert_mask(mask: np.ndarray) -> np.ndarray:
    return 255 - mask


def mask_is_empty(mask: np.ndarray) -> bool:
    return not mask.any()


def mask_bounds(mask: np.ndarray) -> Rect | None:
    """The smallest rectangle holding every non-zero mask pixel, or None for an empty mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Rect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def inpaint_weight(mask: np.ndarray, feather: float) -> np.ndarray:
    """How much of the generated image each pixel takes (float32 0..1), zero wherever the mask is zero.

    The feather runs inward from the mask's outer edge (twice a gaussian's half-way point), so
    the generated pixels fade in over about `feather` pixels and nothing outside the mask moves.
    """
    weight = mask.astype(np.float32) / 255.0
    if feather > 0:
        support = np.where(mask > 0, np.uint8(255), np.uint8(0))
        inward = np.clip(2.0 * blur_mask(support, feather / 2.0).astype(np.float32) / 255.0 - 1.0, 0.0, 1.0)
        weight *= inward
    return weight


def outpaint_alpha(mask: np.ndarray, feather: float) -> np.ndarray:
    """Alpha for a layer that fills empty canvas: opaque over the whole mask, fading outward over
    about `feather` pixels of the old image so that no transparent gap or hard seam shows."""
    weight = mask.astype(np.float32) / 255.0
    if feather > 0:
        outward = np.clip(2.0 * blur_mask(mask, feather / 2.0).astype(np.float32) / 255.0, 0.0, 1.0)
        weight = np.maximum(weight, outward)
    return np.rint(weight * 255.0).astype(np.uint8)


def fill_transparent(pixels: np.ndarray) -> np.ndarray:
    """RGB where transparent pixels take the colours around them (pull-push): context for outpainting.

    Each coarser level averages the known colours of 2x2 blocks and counts a block as known once
    any of it is (weights summed, capped at 1), so known colour spreads out fast without greying.
    """
    weight = pixels[..., 3:4].astype(np.float32) / 255.0
    color = pixels[..., :3].astype(np.float32)
    levels = [(color, weight)]
    while max(weight.shape[:2]) > 1:
        height, width = weight.shape[:2]
        pad = ((0, height % 2), (0, width % 2), (0, 0))
        shape = ((height + 1) // 2, 2, (width + 1) // 2, 2)
        w = np.pad(weight, pad).reshape(shape + (1,))
        c = np.pad(color, pad).reshape(shape + (3,))
        total = w.sum(axis=(1, 3))
        color = np.divide((c * w).sum(axis=(1, 3)), total, out=np.full(total.shape[:2] + (3,), 127.0, np.float32), where=total > 0)
        weight = np.minimum(total, 1.0)
        levels.append((color, weight))
    filled = levels[-1][0]
    for color, weight in reversed(levels[:-1]):  # push: each level keeps what it knows, borrows the rest
        height, width = weight.shape[:2]
        coarse = np.asarray(Image.fromarray(np.rint(filled).astype(np.uint8)).resize((width, height), Image.BILINEAR), np.float32)
        filled = color * weight + coarse * (1.0 - weight)
    return np.rint(np.clip(filled, 0, 255)).astype(np.uint8)


def inpaint_alpha(mask: np.ndarray, feather: float) -> np.ndarray:
    """`inpaint_weight` as an 8-bit alpha channel: a generated layer over the original gives the blend."""
    return np.rint(inpaint_weight(mask, feather) * 255.0).astype(np.uint8)


def blend_inpaint(original: np.ndarray, generated: np.ndarray, mask: np.ndarray, feather: float = 8.0) -> np.ndarray:
    """Mix `generated` into `original` through the feathered mask.

    Every pixel where `mask` is 0 is byte-identical to `original`; deep inside the mask the pixel
    is `generated`'s, and the feather blends the two without a seam.
    """
    if original.shape != generated.shape or original.shape[:2] != mask.shape:
        raise ValueError(
            f"inpaint needs images and mask of one size: original {original.shape}, "
            f"generated {generated.shape}, mask {mask.shape}"
        )
    weight = inpaint_weight(mask, feather)[..., None]
    mixed = original.astype(np.float32) * (1.0 - weight) + generated.astype(np.float32) * weight
    blended = np.rint(mixed).astype(np.uint8)
    return np.where((mask == 0)[..., None], original, blended)


def outpaint_canvas(image: np.ndarray, left: int, top: int, right: int, bottom: int) -> tuple[np.ndarray, np.ndarray]:
    """Grow `image` by the given pixels on each side; returns (expanded image, mask of the new area).

    The new area is the stretched edge, blurred, so the model starts from the right colours
    instead of a flat grey; the old area is kept byte for byte.
    """
    pads = (left, top, right, bottom)
    if any(not isinstance(p, int) or p < 0 for p in pads):
        raise ValueError(f"outpaint sizes must be whole numbers of pixels, zero or more, got {pads}")
    height, width = image.shape[:2]
    spec = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    stretched = np.pad(image, spec, mode="edge")
    mask = np.full(stretched.shape[:2], 255, np.uint8)
    mask[top : top + height, left : left + width] = 0
    if not mask.any():
        return stretched, mask
    # A wide blur: colour context from the edge without the streaks that plain stretching leaves.
    blurred = np.asarray(Image.fromarray(stretched).filter(ImageFilter.GaussianBlur(max(pads) / 4.0)))
    expanded = np.where((mask > 0).reshape(mask.shape + (1,) * (image.ndim - 2)), blurred, stretched)
    return expanded.astype(np.uint8), mask
