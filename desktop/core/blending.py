"""Layer blend modes: one table, keyed by the names OpenRaster files use (`composite-op`).

Krita, GIMP and MyPaint write the W3C Compositing and Blending names with an `svg:` prefix; the
formulas here are that specification's (separable and non-separable blend modes, and the few
Porter-Duff operators painting programs use for masking and adding). Every colour is a float32
array in 0..1. A name not in the table (`krita:...` modes, say) is drawn as Normal and kept as it
was, so saving the file again loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

NORMAL = "svg:src-over"


@dataclass(frozen=True)
class BlendMode:
    """One `composite-op`: its label, and either a blend function B(backdrop, source) or a Porter-Duff rule."""

    op: str
    label: str
    blend: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None  # separable or not; None: plain
    porter_duff: str = ""  # "plus", "dst-out", "dst-in", "src-atop", "dst-atop"
    clears_outside: bool = False  # where the layer has no pixels the backdrop still changes (dst-in)


def _hard_light(backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    doubled = 2.0 * source
    return np.where(source <= 0.5, backdrop * doubled, backdrop + (doubled - 1.0) - backdrop * (doubled - 1.0))


def _color_dodge(backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(1.0, backdrop / np.maximum(1.0 - source, 1e-12))
    return np.where(backdrop <= 0.0, 0.0, np.where(source >= 1.0, 1.0, ratio)).astype(np.float32)


def _color_burn(backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1.0 - np.minimum(1.0, (1.0 - backdrop) / np.maximum(source, 1e-12))
    return np.where(backdrop >= 1.0, 1.0, np.where(source <= 0.0, 0.0, ratio)).astype(np.float32)


def _soft_light(backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    darker = backdrop - (1.0 - 2.0 * source) * backdrop * (1.0 - backdrop)
    curve = np.where(backdrop <= 0.25, ((16.0 * backdrop - 12.0) * backdrop + 4.0) * backdrop, np.sqrt(backdrop))
    return np.where(source <= 0.5, darker, backdrop + (2.0 * source - 1.0) * (curve - backdrop))


# ---- non-separable modes (W3C: Lum, ClipColor, SetLum, Sat, SetSat)
def _lum(color: np.ndarray) -> np.ndarray:
    return color[..., 0:1] * 0.3 + color[..., 1:2] * 0.59 + color[..., 2:3] * 0.11


def _set_lum(color: np.ndarray, lum: np.ndarray) -> np.ndarray:
    color = color + (lum - _lum(color))
    level = _lum(color)
    low, high = color.min(axis=-1, keepdims=True), color.max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        color = np.where(low < 0.0, level + (color - level) * level / np.maximum(level - low, 1e-12), color)
        color = np.where(high > 1.0, level + (color - level) * (1.0 - level) / np.maximum(high - level, 1e-12), color)
    return color


def _sat(color: np.ndarray) -> np.ndarray:
    return color.max(axis=-1, keepdims=True) - color.min(axis=-1, keepdims=True)


def _set_sat(color: np.ndarray, saturation: np.ndarray) -> np.ndarray:
    low, high = color.min(axis=-1, keepdims=True), color.max(axis=-1, keepdims=True)
    spread = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (color - low) * saturation / np.maximum(spread, 1e-12)
    return np.where(spread > 0.0, scaled, 0.0)


MODES: dict[str, BlendMode] = {mode.op: mode for mode in (
    BlendMode(NORMAL, "Normal"),
    BlendMode("svg:multiply", "Multiply", lambda b, s: b * s),
    BlendMode("svg:screen", "Screen", lambda b, s: b + s - b * s),
    BlendMode("svg:overlay", "Overlay", lambda b, s: _hard_light(s, b)),
    BlendMode("svg:darken", "Darken", np.minimum),
    BlendMode("svg:lighten", "Lighten", np.maximum),
    BlendMode("svg:color-dodge", "Color Dodge", _color_dodge),
    BlendMode("svg:color-burn", "Color Burn", _color_burn),
    BlendMode("svg:hard-light", "Hard Light", _hard_light),
    BlendMode("svg:soft-light", "Soft Light", _soft_light),
    BlendMode("svg:difference", "Difference", lambda b, s: np.abs(b - s)),
    BlendMode("svg:exclusion", "Exclusion", lambda b, s: b + s - 2.0 * b * s),
    BlendMode("svg:hue", "Hue", lambda b, s: _set_lum(_set_sat(s, _sat(b)), _lum(b))),
    BlendMode("svg:saturation", "Saturation", lambda b, s: _set_lum(_set_sat(b, _sat(s)), _lum(b))),
    BlendMode("svg:color", "Color", lambda b, s: _set_lum(s, _lum(b))),
    BlendMode("svg:luminosity", "Luminosity", lambda b, s: _set_lum(b, _lum(s))),
    BlendMode("svg:plus", "Addition", porter_duff="plus"),
    BlendMode("svg:dst-out", "Erase", porter_duff="dst-out"),
    BlendMode("svg:dst-in", "Mask (keep inside)", porter_duff="dst-in", clears_outside=True),
    BlendMode("svg:src-atop", "Clip to Below", porter_duff="src-atop"),
    BlendMode("svg:dst-atop", "Behind, Clipped", porter_duff="dst-atop", clears_outside=True),
)}


def mode_of(op: str) -> BlendMode | None:
    """The table's entry for a `composite-op`, or None for one Atelier draws as Normal (and keeps)."""
    return MODES.get(op)


def label(op: str) -> str:
    mode = MODES.get(op)
    return mode.label if mode else f"{op} (shown as Normal)"


def composite(color: np.ndarray, alpha: np.ndarray, source: np.ndarray, source_alpha: np.ndarray, op: str) -> None:
    """Put `source` (straight colour, H x W x 3) with `source_alpha` (H x W x 1, opacity applied) onto the
    premultiplied backdrop `color` / `alpha`, in place, with the blend mode `op`."""
    mode = MODES.get(op)
    keep = 1.0 - source_alpha
    if mode is None or (mode.blend is None and not mode.porter_duff):  # Normal, and modes drawn as Normal
        color *= keep
        color += source * source_alpha
        alpha *= keep
        alpha += source_alpha
        return
    if mode.porter_duff:
        _porter_duff(mode.porter_duff, color, alpha, source * source_alpha, source_alpha)
        return
    backdrop = np.divide(color, alpha, out=np.zeros_like(color), where=alpha > 0)
    mixed = np.clip(mode.blend(backdrop, source), 0.0, 1.0)
    # W3C: the source colour becomes (1 - αb)·Cs + αb·B(Cb, Cs), then goes "over" as usual
    color *= keep
    color += source_alpha * ((1.0 - alpha) * source + alpha * mixed)
    alpha *= keep
    alpha += source_alpha


def _porter_duff(rule: str, color, alpha, source_premultiplied, source_alpha) -> None:
    if rule == "plus":
        color += source_premultiplied
        alpha += source_alpha
        np.minimum(alpha, 1.0, out=alpha)
        np.minimum(color, alpha, out=color)
    elif rule == "dst-out":
        color *= 1.0 - source_alpha
        alpha *= 1.0 - source_alpha
    elif rule == "dst-in":
        color *= source_alpha
        alpha *= source_alpha
    elif rule == "src-atop":
        color *= 1.0 - source_alpha
        color += source_premultiplied * alpha
    elif rule == "dst-atop":
        color[...] = source_premultiplied * (1.0 - alpha) + color * source_alpha
        alpha[...] = source_alpha
