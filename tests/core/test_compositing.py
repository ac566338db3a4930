"""Pixel math without Qt: flattening, brush dabs, masks, inpaint blending and outpaint context."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core import compositing
from desktop.core.compositing import (
    Brush,
    apply_coverage,
    blend_inpaint,
    blur_mask,
    crop,
    dab_coverage,
    fill_transparent,
    flatten,
    inpaint_alpha,
    inpaint_weight,
    invert_mask,
    mask_bounds,
    mask_is_empty,
    outpaint_alpha,
    outpaint_canvas,
    paste,
    rgba_to_rgb,
    stroke_points,
)
from desktop.core.document import Layer
from desktop.core.geometry import Rect


def solid(color, width=8, height=8, visible=True, opacity=1.0) -> Layer:
    layer = Layer.blank("L", width, height, color)
    layer.visible, layer.opacity = visible, opacity
    return layer


def test_one_opaque_layer_flattens_to_its_own_bytes():
    rng = np.random.default_rng(0)
    layer = Layer("R", rng.integers(0, 256, (16, 16, 4), dtype=np.uint8))
    assert np.array_equal(flatten([layer], Rect(0, 0, 16, 16)), layer.pixels)


def test_straight_alpha_over_with_opacity():
    red = solid((255, 0, 0, 255))
    blue_half = solid((0, 0, 255, 255), opacity=0.5)
    out = flatten([red, blue_half], Rect(0, 0, 8, 8))
    assert tuple(out[0, 0]) == (128, 0, 128, 255)
    # semi-transparent over nothing keeps its colour and carries the alpha
    glass = solid((10, 200, 30, 100), opacity=0.5)
    out = flatten([glass, solid((0, 0, 0, 0))], Rect(0, 0, 8, 8))
    assert tuple(out[0, 0]) == (10, 200, 30, 50)
    # a 50% layer over a 50% layer of another colour: alpha 0.75, colour weighted 2:1 to the top
    out = flatten([solid((0, 0, 255, 128)), solid((255, 0, 0, 128))], Rect(0, 0, 8, 8))
    assert abs(int(out[0, 0, 3]) - 191) <= 1 and abs(int(out[0, 0, 0]) - 170) <= 1 and abs(int(out[0, 0, 2]) - 85) <= 1


def test_hidden_and_zero_opacity_layers_do_not_count():
    red = solid((255, 0, 0, 255))
    out = flatten([red, solid((0, 255, 0, 255), visible=False), solid((0, 0, 255, 255), opacity=0.0)], Rect(0, 0, 8, 8))
    assert np.all(out == (255, 0, 0, 255))


def test_offsets_and_regions(monkeypatch):
    monkeypatch.setattr(compositing, "_STRIP_ROWS", 3)  # several strips, seams included
    rng = np.random.default_rng(3)
    layers = [Layer("A", rng.integers(0, 256, (20, 20, 4), dtype=np.uint8), opacity=0.6),
              Layer("B", rng.integers(0, 256, (7, 9, 4), dtype=np.uint8), x=5, y=6, opacity=0.8)]
    whole = flatten(layers, Rect(0, 0, 20, 20))
    monkeypatch.setattr(compositing, "_STRIP_ROWS", 512)
    assert np.array_equal(whole, flatten(layers, Rect(0, 0, 20, 20)))
    assert np.array_equal(flatten(layers, Rect(4, 5, 10, 9)), whole[5:14, 4:14])
    assert not flatten(layers, Rect(-10, -10, 5, 5)).any()


def test_rgba_to_rgb_puts_pixels_over_a_background():
    pixels = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 128]]], np.uint8)
    assert rgba_to_rgb(pixels).tolist() == [[[255, 0, 0], [255, 255, 255], [127, 127, 127]]]


def test_crop_pads_outside_with_zero_and_paste_clips():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    part = crop(image, Rect(2, 2, 4, 4))
    assert part[:2, :2].tolist() == [[10, 11], [14, 15]] and not part[2:].any() and not part[:, 2:].any()
    target = np.zeros((4, 4), np.uint8)
    assert paste(target, np.ones((3, 3), np.uint8), -1, 2) == Rect(0, 2, 2, 2)
    assert target.sum() == 4
    assert paste(target, np.ones((3, 3), np.uint8), 10, 10) is None


def test_dab_coverage_hard_and_soft():
    rect, hard = dab_coverage(Brush(size=10, hardness=1.0), 20.5, 20.5)
    assert rect.x <= 15 and rect.right >= 26
    centre = hard[20 - rect.y, 20 - rect.x]
    corner = hard[0, 0]
    assert centre == pytest.approx(1.0) and corner == 0.0
    assert hard[20 - rect.y, 25 - rect.x] == pytest.approx(0.5)  # antialiased edge, on the circle
    assert hard[20 - rect.y, 24 - rect.x] == 1.0 and hard[20 - rect.y, 26 - rect.x] == 0.0
    assert hard.sum() == pytest.approx(np.pi * 25, rel=0.03)  # covers the circle's area
    _rect, one = dab_coverage(Brush(size=1, hardness=1.0), 3.5, 3.5)
    assert one.max() == 1.0 and one.sum() == pytest.approx(1.0, abs=0.3)  # a 1-px brush paints one pixel
    _rect, soft = dab_coverage(Brush(size=10, hardness=0.0), 20.0, 20.0)
    row = soft[20 - rect.y, 20 - rect.x: 26 - rect.x]
    assert np.all(np.diff(row) <= 0) and row[0] > 0.9 and row[3] < hard[20 - rect.y, 23 - rect.x]


def test_stroke_points_are_evenly_spaced_across_segments():
    points, carry = stroke_points((0, 0), (2.5, 0), 1.0)
    more, carry = stroke_points((2.5, 0), (5.0, 0), 1.0, carry)
    xs = [p[0] for p in points + more]
    assert xs == pytest.approx([1, 2, 3, 4, 5]) and carry == pytest.approx(0.0)
    none, carry = stroke_points((0, 0), (0.3, 0), 1.0)
    assert none == [] and carry == pytest.approx(0.3)


def test_apply_coverage_paints_and_erases_layers_and_masks():
    before = np.zeros((1, 2, 4), np.uint8)
    before[0, 1] = (0, 0, 255, 255)
    coverage = np.array([[1.0, 0.5]], np.float32)
    painted = apply_coverage(before, coverage, Brush(color=(255, 0, 0, 255)))
    assert tuple(painted[0, 0]) == (255, 0, 0, 255) and tuple(painted[0, 1]) == (128, 0, 128, 255)
    erased = apply_coverage(painted, coverage, Brush(erase=True))
    assert erased[0, 0, 3] == 0 and erased[0, 1, 3] == 128 and tuple(erased[0, 1, :3]) == (128, 0, 128)
    mask = np.array([[0, 100]], np.uint8)
    assert apply_coverage(mask, coverage, Brush()).tolist() == [[255, 178]]
    assert apply_coverage(mask, coverage, Brush(erase=True)).tolist() == [[0, 50]]
    assert apply_coverage(mask, coverage, Brush(opacity=0.5)).tolist() == [[128, 139]]


def test_brush_values_are_kept_in_range():
    brush = Brush(size=-4, hardness=3, color=(300, -1, 5), opacity=9)
    assert (brush.size, brush.hardness, brush.opacity, brush.color) == (1.0, 1.0, 1.0, (255, 0, 5, 255))


def test_mask_helpers():
    mask = np.zeros((10, 12), np.uint8)
    assert mask_is_empty(mask) and mask_bounds(mask) is None
    mask[2:5, 3:9] = 255
    assert mask_bounds(mask) == Rect(3, 2, 6, 3) and not mask_is_empty(mask)
    assert invert_mask(invert_mask(mask)).tolist() == mask.tolist() and invert_mask(mask)[0, 0] == 255
    blurred = blur_mask(mask, 2.0)
    assert blurred[1, 5] > 0 and blurred[3, 5] < 255 and np.array_equal(blur_mask(mask, 0), mask)


def test_feathered_weight_is_zero_outside_one_deep_inside_and_ramps_between():
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    weight = inpaint_weight(mask, 8.0)
    assert not weight[:, :32].any()
    assert np.all(weight[:, 48:] > 0.99)
    row = weight[32, 32:48]
    assert np.all(np.diff(row) >= 0) and row[0] < 0.2
    assert np.array_equal(inpaint_weight(mask, 0), mask / 255.0)
    assert inpaint_alpha(mask, 8.0).dtype == np.uint8


def test_inpaint_blend_is_seamless_at_the_mask_edge():
    original = np.zeros((32, 64, 3), np.uint8)
    generated = np.full((32, 64, 3), 255, np.uint8)
    mask = np.zeros((32, 64), np.uint8)
    mask[:, 32:] = 255
    hard = blend_inpaint(original, generated, mask, feather=0)
    soft = blend_inpaint(original, generated, mask, feather=12)
    assert np.abs(np.diff(hard[16, :, 0].astype(int))).max() == 255
    assert np.abs(np.diff(soft[16, :, 0].astype(int))).max() < 60
    assert np.all(soft[:, 60:] == 255)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    channels=st.sampled_from([3, 4]),
    feather=st.sampled_from([0.0, 0.5, 3.0, 8.0, 40.0]),
    soft=st.booleans(),
)
def test_inpaint_leaves_every_unmasked_pixel_identical(seed, height, width, channels, feather, soft):
    rng = np.random.default_rng(seed)
    original = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    generated = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    if soft:
        mask = rng.integers(0, 256, (height, width), dtype=np.uint8) * (rng.random((height, width)) < 0.5)
        mask = mask.astype(np.uint8)
    else:
        mask = np.where(rng.random((height, width)) < 0.4, 255, 0).astype(np.uint8)
    out = blend_inpaint(original, generated, mask, feather)
    assert out.dtype == np.uint8 and out.shape == original.shape
    assert np.array_equal(out[mask == 0], original[mask == 0])


def test_inpaint_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="one size"):
        blend_inpaint(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8), np.zeros((4, 4), np.uint8))


def test_outpaint_keeps_the_old_area_and_fills_the_new_with_edge_colours():
    image = np.zeros((32, 32, 4), np.uint8)
    image[:, :16] = (255, 0, 0, 255)
    image[:, 16:] = (0, 0, 255, 255)
    expanded, mask = outpaint_canvas(image, 8, 4, 24, 0)
    assert expanded.shape == (36, 64, 4) and mask.shape == (36, 64)
    assert np.array_equal(expanded[4:, 8:40], image)
    assert not mask[4:, 8:40].any() and mask[:4].all() and mask[:, :8].all() and mask[:, 40:].all()
    right = expanded[20, 56]
    assert right[2] > 200 and right[0] < 40 and right[3] == 255  # blue context to the right of blue
    left = expanded[20, 2]
    assert left[0] > 200 and left[2] < 40
    same, nothing = outpaint_canvas(image[..., :3], 0, 0, 0, 0)
    assert np.array_equal(same, image[..., :3]) and not nothing.any()
    with pytest.raises(ValueError, match="zero or more"):
        outpaint_canvas(image, -1, 0, 0, 0)


def test_fill_transparent_keeps_opaque_pixels_and_borrows_colour_for_the_rest():
    pixels = np.zeros((20, 30, 4), np.uint8)
    pixels[:, :10] = (255, 0, 0, 255)
    filled = fill_transparent(pixels)
    assert np.array_equal(filled[:, :10], pixels[:, :10, :3])
    assert filled[:, 10:, 0].min() > 200 and filled[:, 10:, 1:].max() < 40  # red all the way across
    assert np.all(fill_transparent(np.zeros((5, 3, 4), np.uint8)) == 127)  # nothing to borrow: neutral grey


def test_outpaint_alpha_is_opaque_on_the_mask_and_fades_outward():
    mask = np.zeros((8, 64), np.uint8)
    mask[:, 32:] = 255
    alpha = outpaint_alpha(mask, 8.0)
    assert alpha[:, 32:].min() == 255 and alpha[:, :16].max() == 0
    assert np.all(np.diff(alpha[4].astype(int)) >= 0) and 0 < alpha[4, 28] < 255
    assert np.array_equal(outpaint_alpha(mask, 0), mask)
