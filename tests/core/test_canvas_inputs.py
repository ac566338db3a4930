"""From canvas to generation and back: areas, blockers, and results that leave unmasked pixels alone."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.canvas_inputs import add_result, canvas_inputs, generation_blocker, result_pixels
from desktop.core.compositing import Brush
from desktop.core.document import MASK, Document, EditError, Layer
from desktop.core.edits import AddLayer, SetLayerVisibility, SetSelection, expand_canvas
from desktop.core.geometry import Rect
from desktop.core.stroke import Stroke


def painted_document() -> Document:
    rng = np.random.default_rng(5)
    document = Document.blank(64, 48)
    document.history.do(AddLayer(Layer("Paint", rng.integers(0, 256, (48, 64, 4), dtype=np.uint8), opacity=0.8)))
    document.history.do(AddLayer(Layer("Patch", rng.integers(0, 256, (10, 12, 4), dtype=np.uint8), x=30, y=20)))
    return document


def paint_mask(document: Document) -> None:
    stroke = Stroke(document, MASK, Brush(30, 0.6))
    for x in range(12, 44, 2):
        stroke.add_point(x, 24)
    stroke.finish()


def test_txt2img_and_img2img_fill_the_selection_or_the_canvas():
    document = painted_document()
    inputs = canvas_inputs(document, "txt2img")
    assert inputs.rect == Rect(0, 0, 64, 48) and inputs.image is None and inputs.mask is None
    document.history.do(SetSelection(Rect(8, 4, 32, 24)))
    inputs = canvas_inputs(document, "img2img")
    assert inputs.rect == Rect(8, 4, 32, 24) and inputs.image.shape == (24, 32, 3)
    assert np.array_equal(inputs.image, document.composite(Rect(8, 4, 32, 24))[..., :3])  # opaque: same colours
    add_result(document, inputs, np.full((24, 32, 3), 9, np.uint8), "a blue door")
    layer = document.active_layer
    assert layer.name == "a blue door" and layer.bounds == Rect(8, 4, 32, 24) and np.all(layer.pixels[..., 3] == 255)


def test_inpaint_is_blocked_with_the_reason_until_a_mask_is_painted():
    document = painted_document()
    assert "Paint a mask" in generation_blocker(document, "inpaint")
    with pytest.raises(EditError, match="Paint a mask"):
        canvas_inputs(document, "inpaint")
    paint_mask(document)
    assert generation_blocker(document, "inpaint") is None
    document.history.do(SetSelection(Rect(50, 0, 14, 10)))
    assert "outside the selection" in generation_blocker(document, "inpaint")
    assert "unknown mode" in generation_blocker(document, "sketch")


def test_inpaint_result_leaves_every_unmasked_pixel_identical_and_undo_removes_it():
    document = painted_document()
    paint_mask(document)
    before = document.composite()
    inputs = canvas_inputs(document, "inpaint")
    assert len(inputs.mask_bytes()) == 64 * 48
    generated = np.random.default_rng(9).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    add_result(document, inputs, generated, "moss", "moss\nSteps: 4")
    after = document.composite()
    unmasked = document.mask == 0
    assert np.array_equal(after[unmasked], before[unmasked])
    assert np.array_equal(after[24, 26, :3], generated[24, 26])  # deep inside the mask: the generated pixel
    assert document.history.undo_label == "Generate: moss" and document.active_layer.parameters.startswith("moss")
    document.history.undo()
    assert np.array_equal(document.composite(), before) and len(document.layers) == 3


def test_outpaint_fills_the_expanded_area_without_a_gap():
    document = painted_document()
    assert "expand the canvas first" in generation_blocker(document, "outpaint")
    document.history.do(expand_canvas(document, right=32, top=8))
    inputs = canvas_inputs(document, "outpaint")
    assert inputs.rect == Rect(0, 0, 96, 56)
    assert inputs.mask[:8].min() == 255 and inputs.mask[8:, 64:].min() == 255 and inputs.mask[8:, :64].max() == 0
    assert inputs.image.shape == (56, 96, 3)
    old = document.composite()
    add_result(document, inputs, np.full((56, 96, 3), 200, np.uint8), "more sky", feather=6)
    new = document.composite()
    assert new[..., 3].min() == 255  # nothing left empty
    assert np.array_equal(new[30:, :40], old[30:, :40])  # far from the seam the old picture is untouched


def test_results_of_another_size_are_fitted_to_the_area():
    document = painted_document()
    document.history.do(SetSelection(Rect(0, 0, 30, 21)))
    inputs = canvas_inputs(document, "txt2img")
    pixels = result_pixels(inputs, np.zeros((24, 32, 3), np.uint8))
    assert pixels.shape == (21, 30, 4)
    with pytest.raises(EditError, match="H x W x 3"):
        result_pixels(inputs, np.zeros((24, 32), np.uint8))


def test_nothing_visible_blocks_img2img():
    document = Document.blank(16, 16)
    document.history.do(SetLayerVisibility(document.layers[0].id, False))
    assert "Nothing is visible" in generation_blocker(document, "img2img")
    assert generation_blocker(document, "txt2img") is None
