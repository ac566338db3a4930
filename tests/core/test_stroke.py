"""Brush strokes on layers and on the mask: live painting, one undo step, tiles not copies."""

from __future__ import annotations

import numpy as np

from desktop.core.compositing import Brush
from desktop.core.document import MASK, Document, Layer
from desktop.core.geometry import Rect
from desktop.core.stroke import TILE, PaintStroke, Stroke


def test_a_stroke_paints_live_and_undoes_as_one_step():
    document = Document.blank(64, 64)
    seen = []
    document.changed.connect(seen.append)
    stroke = Stroke(document, document.layers[0].id, Brush(8, 1.0, (255, 0, 0, 255)))
    first = stroke.add_point(10, 32)
    assert first is not None and first.contains(Rect(7, 29, 6, 6))
    stroke.add_point(50, 32)
    assert tuple(document.layers[0].pixels[32, 30]) == (255, 0, 0, 255)
    assert any(change.kind == "pixels" for change in seen)
    command = stroke.finish()
    assert document.history.labels == ["Paint layer"] and isinstance(command, PaintStroke)
    document.history.undo()
    assert np.all(document.layers[0].pixels == 255) and not document.modified


def test_overlapping_dabs_in_one_stroke_do_not_build_up():
    document = Document(32, 32, [Layer.blank("Clear", 32, 32)])
    stroke = Stroke(document, document.layers[0].id, Brush(10, 1.0, (0, 0, 0, 255), opacity=0.5))
    for x in (10, 11, 12, 11, 10, 16, 10):
        stroke.add_point(x, 16)
    stroke.finish()
    assert document.layers[0].pixels[16, 10:17, 3].tolist() == [128] * 7
    second = Stroke(document, document.layers[0].id, Brush(10, 1.0, (0, 0, 0, 255), opacity=0.5))
    second.add_point(10, 16)
    second.finish()
    assert document.layers[0].pixels[16, 10, 3] == 192  # a new stroke does build on the last


def test_mask_strokes_paint_and_erase_the_mask():
    document = Document.blank(64, 64)
    stroke = Stroke(document, MASK, Brush(16, 1.0))
    stroke.add_point(20, 20)
    stroke.add_point(40, 20)
    stroke.finish()
    assert document.mask[20, 20:41].min() == 255 and document.mask[50, 50] == 0
    eraser = Stroke(document, MASK, Brush(16, 1.0, erase=True))
    eraser.add_point(30, 20)
    eraser.finish()
    assert document.mask[20, 30] == 0 and document.mask[20, 20] == 255
    assert document.history.labels == ["Paint mask", "Erase mask"]
    assert np.all(document.layers[0].pixels == 255)  # the mask is not the layer


def test_strokes_on_an_offset_layer_use_canvas_coordinates_and_clip():
    layer = Layer.blank("Small", 10, 10, x=20, y=20)
    document = Document(64, 64, [layer])
    stroke = Stroke(document, layer.id, Brush(4, 1.0, (0, 255, 0, 255)))
    assert stroke.add_point(2, 2) is None  # off the layer: nothing to paint
    changed = stroke.add_point(25, 25)
    assert changed is not None and Rect(20, 20, 10, 10).contains(changed)
    stroke.finish()
    assert tuple(layer.pixels[5, 5]) == (0, 255, 0, 255)


def test_undo_memory_is_the_touched_tiles_not_the_layer():
    document = Document.blank(2048, 2048)
    stroke = Stroke(document, document.layers[0].id, Brush(6, 1.0, (0, 0, 0, 255)))
    stroke.add_point(100, 100)
    stroke.add_point(110, 100)
    command = stroke.finish()
    layer_bytes = 2048 * 2048 * 4
    assert command.nbytes <= 4 * 2 * TILE * TILE * 4 < layer_bytes / 100


def test_pieces_of_one_stroke_merge_and_different_strokes_do_not():
    document = Document.blank(128, 64)
    target = document.layers[0].id
    for start in (10, 70):
        piece = Stroke(document, target, Brush(6, 1.0, (0, 0, 255, 255)), stroke_id=42)
        piece.add_point(start, 10)
        piece.add_point(start + 40, 10)
        piece.finish()
    assert document.history.index == 1
    other = Stroke(document, target, Brush(6, 1.0, (0, 255, 0, 255)))
    other.add_point(5, 40)
    other.finish()
    assert document.history.index == 2
    document.history.undo()
    document.history.undo()
    assert np.all(document.layers[0].pixels == 255)


def test_cancel_takes_the_stroke_back_without_a_history_step():
    document = Document.blank(32, 32)
    document.mark_saved()
    stroke = Stroke(document, document.layers[0].id, Brush(8, 1.0, (0, 0, 0, 255)))
    stroke.add_point(5, 5)
    stroke.add_point(25, 25)
    stroke.cancel()
    assert np.all(document.layers[0].pixels == 255)
    assert document.history.index == 0 and not document.modified
    assert Stroke(document, document.layers[0].id, Brush(8, 1.0, (255, 255, 255, 255))).finish() is None
