"""Control images that need no model: canny edges, scribbles from strokes, inverted line art, blur, inpaint.

Each takes the control layer's pixels (H x W x 4 uint8 RGBA, already at the generation size) and returns
a ControlPicture: the RGB image the ControlNet reads, and for inpaint the holes it must fill. They run on
the worker (desktop/worker/image_jobs.py), never on the GUI thread. Preprocessors that need a model
(depth, normals) live in desktop/engine/control_images.py; the table of types is desktop/core/control_types.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from desktop.core.compositing import rgba_to_rgb

CANNY_LOW, CANNY_HIGH = 100, 200  # A1111's defaults
BLUR_SIGMA_AT_512 = 9.0  # A1111's blur_gaussian default, at its 512 px processor resolution


@dataclass(frozen=True)
class ControlPicture:
    """What a ControlNet reads: RGB uint8, and for inpaint control the pixels to fill (H x W bool) or None."""

    rgb: np.ndarray
    holes: np.ndarray | None = None

    def preview(self) -> np.ndarray:
        """The picture as a person should see it: holes shown mid grey."""
        if self.holes is None:
            return self.rgb
        shown = self.rgb.copy()
        shown[self.holes] = 128
        return shown


def _three(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2).astype(np.uint8)


def _has_transparency(rgba: np.ndarray) -> bool:
    return bool((rgba[..., 3] < 255).any())


def as_is(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """The layer already is the map (preprocessing off): its colours over black, as A1111's module "none"."""
    return ControlPicture(rgba_to_rgb(rgba, (0, 0, 0)))


def canny(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """OpenCV's Canny on the colours (A1111's canny, thresholds 100/200): white edges on black."""
    import cv2

    return ControlPicture(_three(cv2.Canny(rgba_to_rgb(rgba), CANNY_LOW, CANNY_HIGH)))


def scribble(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """Strokes as white lines on black: painted pixels of a transparent layer, or dark lines on a light one."""
    if _has_transparency(rgba):
        lines = rgba[..., 3] >= 128
    else:
        gray = rgba[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        lines = gray < 128
    return ControlPicture(_three(np.where(lines, 255, 0)))


def inverted_lines(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """Dark line art on light (over white where transparent), inverted: white lines on black, shades kept."""
    gray = rgba_to_rgb(rgba).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return ControlPicture(_three(255 - np.clip(np.rint(gray), 0, 255)))


def blur(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """A Gaussian blur (A1111's blur_gaussian, sigma scaled from its 512 px resolution) for tile/blur models."""
    import cv2

    rgb = rgba_to_rgb(rgba, (0, 0, 0))
    sigma = max(0.5, BLUR_SIGMA_AT_512 * min(rgb.shape[:2]) / 512)
    return ControlPicture(cv2.GaussianBlur(rgb, (0, 0), sigma))


def inpaint(rgba: np.ndarray, mask: np.ndarray | None = None) -> ControlPicture:
    """The picture with holes where it is to be filled: the inpaint mask, and the layer's transparent pixels."""
    holes = rgba[..., 3] < 128
    if mask is not None:
        holes = holes | (mask >= 128)
    return ControlPicture(rgba_to_rgb(rgba, (0, 0, 0)), holes)


PREPROCESSORS: dict[str, Callable[[np.ndarray, np.ndarray | None], ControlPicture]] = {
    "none": as_is,
    "canny": canny,
    "scribble": scribble,
    "invert": inverted_lines,
    "blur": blur,
    "inpaint": inpaint,
}
