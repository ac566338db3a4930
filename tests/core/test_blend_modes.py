"""Every blend mode in desktop.core.blending.MODES against the W3C Compositing and Blending formulas,
written here again one pixel at a time: a mode added to the table without a reference here fails."""

from __future__ import annotations

import numpy as np
import pytest
from blend_reference import BLENDS, PORTER_DUFF, blend_over

from desktop.core import blending
from desktop.core.compositing import flatten
from desktop.core.document import Layer
from desktop.core.geometry import Rect

# backdrop and source pixels that take every branch somewhere: dark and light channels, partial alpha
CASES = [((0.8, 0.4, 0.1), 1.0, (0.3, 0.6, 0.9), 0.75),
         ((0.2, 0.5, 0.9), 0.6, (0.7, 0.2, 0.4), 1.0),
         ((1.0, 0.0, 0.25), 0.8, (0.0, 1.0, 0.5), 0.5)]


def _pixel(color, alpha) -> np.ndarray:
    return np.array([[[round(c * 255) for c in color] + [round(alpha * 255)]]], np.uint8)


@pytest.mark.parametrize("op", sorted(blending.MODES))
def test_each_mode_matches_the_reference_formula(op):
    assert op in BLENDS or op in PORTER_DUFF, f"{op} is in the table but has no reference here"
    for cb, ab, cs, as_ in CASES:
        backdrop, source = _pixel(cb, ab), _pixel(cs, as_)
        cb, ab = [v / 255 for v in backdrop[0, 0, :3]], backdrop[0, 0, 3] / 255  # what the pixels really hold
        cs, as_ = [v / 255 for v in source[0, 0, :3]], source[0, 0, 3] / 255
        if op in BLENDS:
            color, alpha = blend_over(cb, ab, cs, as_, BLENDS[op])
        else:
            premultiplied, alpha = PORTER_DUFF[op](cb, ab, cs, as_)
            color = [p / alpha if alpha else 0.0 for p in premultiplied]
        expected = [round(min(max(c, 0), 1) * 255) for c in color] + [round(alpha * 255)]
        got = flatten([Layer("below", backdrop), Layer("above", source, blend=op)], Rect(0, 0, 1, 1))[0, 0]
        assert np.abs(got.astype(int) - expected).max() <= 1, (op, cb, ab, cs, as_, got, expected)


def test_an_unknown_mode_draws_as_normal_and_known_labels_read_well():
    backdrop, source = _pixel((0.2, 0.2, 0.2), 1.0), _pixel((0.9, 0.1, 0.5), 0.5)
    normal = flatten([Layer("b", backdrop), Layer("s", source)], Rect(0, 0, 1, 1))
    odd = flatten([Layer("b", backdrop), Layer("s", source, blend="krita:linear_burn")], Rect(0, 0, 1, 1))
    assert np.array_equal(normal, odd)
    assert blending.label("svg:multiply") == "Multiply" and "shown as Normal" in blending.label("krita:x")


def test_dst_in_clears_the_backdrop_where_the_mask_layer_has_no_pixels():
    backdrop = np.full((4, 4, 4), 255, np.uint8)
    mask = np.full((2, 2, 4), 255, np.uint8)
    out = flatten([Layer("paper", backdrop), Layer("mask", mask, x=1, y=1, blend="svg:dst-in")], Rect(0, 0, 4, 4))
    assert out[..., 3].tolist() == [[0, 0, 0, 0], [0, 255, 255, 0], [0, 255, 255, 0], [0, 0, 0, 0]]
