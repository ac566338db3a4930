"""The document model: layers, mask, selection, size, events and the modified flag."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.document import MASK, Change, Document, EditError, Layer
from desktop.core.geometry import Rect


def test_blank_document_has_a_white_background_and_is_not_modified():
    document = Document.blank(64, 48)
    assert (document.width, document.height) == (64, 48)
    assert [layer.name for layer in document.layers] == ["Background"]
    assert document.active_layer is document.layers[0]
    assert not document.modified and document.path is None and document.title == "Untitled"
    assert np.all(document.composite() == 255)
    assert document.mask.shape == (48, 64) and not document.mask.any()
    assert document.selection is None and document.selection_or_canvas() == Rect(0, 0, 64, 48)


def test_layer_takes_rgb_or_grey_and_refuses_other_pixels():
    rgb = np.full((4, 5, 3), 9, np.uint8)
    layer = Layer("A", rgb)
    assert layer.pixels.shape == (4, 5, 4) and np.all(layer.pixels[..., 3] == 255)
    assert Layer("G", np.zeros((4, 5), np.uint8)).pixels.shape == (4, 5, 4)
    with pytest.raises(EditError, match="uint8"):
        Layer("F", np.zeros((4, 5, 4), np.float32))
    with pytest.raises(EditError, match="H x W"):
        Layer("Bad", np.zeros((4, 5, 2), np.uint8))
    assert Layer("O", rgb, opacity=3).opacity == 1.0


def test_layer_copy_is_deep_with_a_new_id():
    layer = Layer.blank("A", 8, 8, (1, 2, 3, 4), x=3, y=-2)
    copy = layer.copy("B")
    assert copy.id != layer.id and copy.name == "B" and (copy.x, copy.y) == (3, -2)
    copy.pixels[0, 0] = 0
    assert tuple(layer.pixels[0, 0]) == (1, 2, 3, 4)
    assert layer.bounds == Rect(3, -2, 8, 8)


def test_changes_emit_events_and_set_modified_once():
    document = Document.blank(32, 32)
    seen: list[Change] = []
    document.changed.connect(seen.append)
    layer = Layer.blank("Top", 32, 32)
    document.insert_layer(1, layer)
    kinds = [change.kind for change in seen]
    assert kinds.count("modified") == 1 and "layers" in kinds and "active" in kinds
    assert document.modified and document.revision == 1
    seen.clear()
    document.update_layer(layer.id, opacity=0.5)
    assert [c.kind for c in seen] == ["layers", "pixels"] and seen[1].rect == Rect(0, 0, 32, 32)
    document.changed.disconnect(seen.append)
    document.update_layer(layer.id, name="Other")
    assert len(seen) == 2


def test_changing_the_active_layer_is_not_a_modification():
    document = Document.blank(16, 16)
    bottom = document.layers[0]
    document.insert_layer(1, Layer.blank("Top", 16, 16))
    document.mark_saved()
    assert not document.modified
    document.set_active_layer(bottom.id)
    assert document.active_layer is bottom and not document.modified
    with pytest.raises(EditError, match="no layer"):
        document.set_active_layer("nope")


def test_update_layer_refuses_unknown_properties():
    document = Document.blank(16, 16)
    with pytest.raises(EditError, match="no property colour"):
        document.update_layer(document.layers[0].id, colour=3)


def test_notify_pixels_reports_canvas_coordinates():
    document = Document(40, 40, [Layer.blank("Off", 10, 10, x=5, y=7)])
    seen = []
    document.changed.connect(seen.append)
    document.notify_pixels(document.layers[0].id, Rect(1, 1, 2, 2))
    document.notify_pixels(MASK, Rect(3, 3, 4, 4))
    assert seen[-2].rect == Rect(6, 8, 2, 2) and seen[-2].layer_id == document.layers[0].id
    assert seen[-1].kind == "mask" and seen[-1].rect == Rect(3, 3, 4, 4)


def test_resize_canvas_moves_layers_mask_and_selection_and_keeps_pixels():
    document = Document.blank(20, 10)
    mask = np.zeros((10, 20), np.uint8)
    mask[2:4, 5:9] = 255
    document.replace_mask(mask)
    document.set_selection(Rect(1, 1, 5, 5))
    document.resize_canvas(30, 12, 4, 1)
    assert (document.width, document.height) == (30, 12)
    assert document.layers[0].bounds == Rect(4, 1, 20, 10)
    assert document.mask.shape == (12, 30) and document.mask[3:5, 9:13].all() and document.mask.sum() == 8 * 255
    assert document.selection == Rect(5, 2, 5, 5)
    document.resize_canvas(5, 5, -4, -1)  # shrink: the layer keeps every pixel outside the canvas
    assert document.layers[0].pixels.shape == (10, 20, 4)


def test_selection_is_clipped_to_the_canvas_and_an_outside_one_is_none():
    document = Document.blank(20, 20)
    document.set_selection(Rect(-5, 10, 40, 40))
    assert document.selection == Rect(0, 10, 20, 10)
    document.set_selection(Rect(50, 50, 4, 4))
    assert document.selection is None


def test_a_canvas_too_large_is_refused_with_the_limit_named():
    with pytest.raises(EditError, match="16384 pixels per side"):
        Document.blank(30000, 30000)
    with pytest.raises(EditError, match="at least 1 pixel"):
        Document(0, 10)


def test_replace_mask_checks_the_shape():
    document = Document.blank(8, 8)
    with pytest.raises(EditError, match="8x8"):
        document.replace_mask(np.zeros((4, 4), np.uint8))
    old = document.replace_mask(np.full((2, 2), 200, np.uint8), Rect(1, 1, 2, 2))
    assert not old.any() and document.mask.sum() == 800


def test_composite_of_a_region_and_of_layers_off_the_canvas():
    red = Layer.blank("Red", 10, 10, (255, 0, 0, 255), x=-5, y=-5)
    document = Document(10, 10, [red])
    out = document.composite()
    assert np.all(out[:5, :5] == (255, 0, 0, 255)) and not out[5:, 5:].any()
    assert document.composite(Rect(-5, -5, 2, 2)).shape == (2, 2, 4)


def test_a_document_from_an_opened_image():
    pixels = np.zeros((12, 20, 3), np.uint8)
    document = Document.from_pixels(pixels, "photo.jpg")
    assert (document.width, document.height) == (20, 12) and document.layers[0].name == "photo.jpg"
    assert not document.modified and document.layers[0].pixels.shape == (12, 20, 4)
