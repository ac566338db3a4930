"""Undo and redo: every command round-trips exactly, refusals change nothing, memory stays bounded."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from desktop.core.compositing import Brush
from desktop.core.document import MASK, Document, EditError, Layer
from desktop.core.edits import (
    AddGeneratedLayer,
    AddLayer,
    DeleteLayer,
    DuplicateLayer,
    InvertMask,
    MergeDown,
    MoveLayer,
    OffsetLayer,
    RenameLayer,
    SetLayerOpacity,
    SetLayerVisibility,
    SetMask,
    SetSelection,
    clear_mask,
    crop_canvas,
    expand_canvas,
    layer_name_from_prompt,
)
from desktop.core.geometry import Rect
from desktop.core.stroke import Stroke


def make_document() -> Document:
    """Three layers with distinct pixels, one offset, a painted mask: something every edit can change."""
    rng = np.random.default_rng(1)
    document = Document.blank(48, 32)
    middle = Layer("Middle", rng.integers(0, 256, (32, 48, 4), dtype=np.uint8), opacity=0.7)
    top = Layer("Top", rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), x=20, y=8)
    document.history.do(AddLayer(middle))
    document.history.do(AddLayer(top))
    mask = np.zeros((32, 48), np.uint8)
    mask[4:12, 6:20] = 255
    document.history.do(SetMask(mask))
    document.history.clear()
    document.mark_saved()
    return document


def state(document: Document) -> tuple:
    """Everything a save would keep, with pixels as hashes: equal states are equal documents."""
    def digest(array):
        return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest() + str(array.shape)

    layers = tuple(
        (l.id, l.name, l.x, l.y, l.visible, round(l.opacity, 6), l.parameters, digest(l.pixels)) for l in document.layers
    )
    active = document.active_layer.id if document.active_layer else None
    return (document.width, document.height, layers, active, digest(document.mask), document.selection)


def layer_id(document: Document, name: str) -> str:
    return next(l.id for l in document.layers if l.name == name)


COMMANDS = {
    "add layer": lambda d: AddLayer(Layer.blank("New", 48, 32, (1, 2, 3, 255))),
    "add generated layer": lambda d: AddGeneratedLayer(np.full((8, 8, 3), 77, np.uint8), "a red fox", 4, 4),
    "duplicate": lambda d: DuplicateLayer(layer_id(d, "Middle")),
    "delete": lambda d: DeleteLayer(layer_id(d, "Middle")),
    "rename": lambda d: RenameLayer(layer_id(d, "Top"), "Sky"),
    "reorder": lambda d: MoveLayer(layer_id(d, "Top"), 0),
    "hide": lambda d: SetLayerVisibility(layer_id(d, "Middle"), False),
    "opacity": lambda d: SetLayerOpacity(layer_id(d, "Top"), 0.25),
    "move layer": lambda d: OffsetLayer(layer_id(d, "Top"), -7, 3),
    "merge down": lambda d: MergeDown(layer_id(d, "Top")),
    "select": lambda d: SetSelection(Rect(2, 3, 20, 10)),
    "set mask": lambda d: SetMask(np.full((32, 48), 128, np.uint8)),
    "clear mask": lambda d: clear_mask(d),
    "invert mask": lambda d: InvertMask(),
    "expand canvas": lambda d: expand_canvas(d, left=16, top=0, right=8, bottom=24),
    "crop canvas": lambda d: crop_canvas(Rect(5, 5, 20, 10)),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_undoes_and_redoes_exactly(name):
    document = make_document()
    before = state(document)
    command = document.history.do(COMMANDS[name](document))
    after = state(document)
    assert after != before, f"{name} changed nothing"
    # a selection is undoable but changes no content: it alone never asks to be saved
    assert document.modified == command.changes_content and document.history.undo_label == command.label
    assert document.history.undo() == command.label
    assert state(document) == before and not document.modified
    assert document.history.redo() == command.label
    assert state(document) == after and document.modified == command.changes_content
    document.history.undo()
    assert state(document) == before


def test_a_paint_stroke_and_a_mask_stroke_undo_and_redo_exactly():
    document = make_document()
    for target, brush in ((layer_id(document, "Middle"), Brush(9, 0.3, (0, 255, 0, 255))), (MASK, Brush(12, 1.0, erase=True))):
        before = state(document)
        stroke = Stroke(document, target, brush)
        for x in range(0, 48, 4):
            stroke.add_point(x, 8 + x / 6)
        stroke.finish()
        after = state(document)
        assert after != before
        document.history.undo()
        assert state(document) == before
        document.history.redo()
        assert state(document) == after


def test_a_long_sequence_undoes_back_to_the_start_and_redoes_to_the_end():
    document = make_document()
    start = state(document)
    order = ["add layer", "add generated layer", "duplicate", "opacity", "move layer", "select", "set mask",
             "invert mask", "clear mask", "expand canvas", "merge down", "hide", "crop canvas", "delete"]
    for name in order:
        document.history.do(COMMANDS[name](document))
    end = state(document)
    steps = document.history.index
    assert steps == len(order)
    document.history.go_to(0)
    assert state(document) == start and not document.modified
    document.history.go_to(steps)
    assert state(document) == end and document.history.index == steps


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda d: MergeDown(d.layers[0].id), "bottom layer"),
        (lambda d: RenameLayer(layer_id(d, "Top"), "   "), "cannot be empty"),
        (lambda d: SetLayerOpacity(layer_id(d, "Top"), 1.5), "opacity goes from 0 to 1"),
        (lambda d: DeleteLayer("missing"), "no layer"),
    ],
)
def test_refused_commands_change_nothing_and_are_not_recorded(build, message):
    document = make_document()
    before = state(document)
    with pytest.raises(EditError, match=message):
        document.history.do(build(document))
    assert state(document) == before and document.history.index == 0 and not document.modified


def test_the_last_layer_cannot_be_deleted():
    document = Document.blank(8, 8)
    with pytest.raises(EditError, match="last layer"):
        document.history.do(DeleteLayer(document.layers[0].id))
    assert len(document.layers) == 1


def test_merge_down_refuses_hidden_layers_and_bakes_the_look_of_both():
    document = make_document()
    top, middle = layer_id(document, "Top"), layer_id(document, "Middle")
    document.history.do(SetLayerVisibility(top, False))
    with pytest.raises(EditError, match="both layers visible"):
        document.history.do(MergeDown(top))
    document.history.undo()
    look = document.composite()
    document.history.do(MergeDown(top))
    assert [l.name for l in document.layers] == ["Background", "Middle"]
    assert document.active_layer.id == middle and document.layer(middle).opacity == 1.0
    assert np.abs(document.composite().astype(int) - look).max() <= 1  # the same picture, within rounding


def test_expanding_past_the_size_limit_is_refused_with_the_limit_named():
    document = make_document()
    with pytest.raises(EditError, match="16384 pixels per side"):
        expand_canvas(document, right=20000)
    with pytest.raises(EditError, match="zero or more"):
        expand_canvas(document, left=-3)


def test_a_new_edit_clears_redo_and_labels_follow_the_steps():
    document = make_document()
    top = layer_id(document, "Top")
    document.history.do(RenameLayer(top, "One"))
    document.history.do(RenameLayer(top, "Two"))
    document.history.undo()
    assert document.history.labels == ["Rename layer", "Rename layer"] and document.history.can_redo
    document.history.do(SetLayerVisibility(top, False))
    assert document.history.labels == ["Rename layer", "Show/hide layer"] and not document.history.can_redo


def test_modified_follows_the_saved_point_through_undo_and_redo():
    document = make_document()
    top = layer_id(document, "Top")
    document.history.do(RenameLayer(top, "A"))
    document.mark_saved()
    assert not document.modified
    document.history.undo()
    assert document.modified
    document.history.redo()
    assert not document.modified
    document.history.undo()
    document.history.do(RenameLayer(top, "B"))  # the saved state is gone from the redo stack
    document.history.undo()
    assert document.modified


def test_selecting_alone_leaves_the_document_unmodified_but_undoable():
    document = make_document()
    document.mark_saved()
    document.history.do(SetSelection(Rect(2, 2, 10, 10)))
    document.history.do(SetSelection(None))
    assert not document.modified and document.history.can_undo  # no "Save changes?" for a selection
    document.history.do(RenameLayer(layer_id(document, "Top"), "A"))
    assert document.modified
    document.history.undo()
    assert not document.modified
    document.history.undo()  # back past the saved point over a selection step: still the saved content
    assert not document.modified
    document.history.redo()
    document.history.redo()
    assert document.modified  # the rename is back
    document.mark_saved()
    document.history.do(SetSelection(Rect(0, 0, 4, 4)))
    assert not document.modified


def test_slider_drags_merge_into_one_step_only_within_one_gesture():
    document = make_document()
    top = layer_id(document, "Top")
    for value in (0.9, 0.8, 0.5):
        document.history.do(SetLayerOpacity(top, value, gesture=1))
    document.history.do(SetLayerOpacity(top, 0.2, gesture=2))
    document.history.do(SetLayerOpacity(top, 0.1))
    document.history.do(SetLayerOpacity(top, 0.05))
    assert document.history.index == 4
    document.history.go_to(1)
    assert document.layer(top).opacity == 0.5
    document.history.undo()
    assert document.layer(top).opacity == 1.0


def test_history_drops_the_oldest_steps_past_its_memory_budget():
    document = make_document()
    document.history.max_bytes = 3 * 48 * 32 * 4 + 1000
    for index in range(6):
        document.history.do(DuplicateLayer(layer_id(document, "Middle")))
        document.history.do(DeleteLayer(layer_id(document, "Middle copy")))
    assert document.history.nbytes <= document.history.max_bytes
    assert document.history.index < 12
    document.history.go_to(0)  # what is left still undoes cleanly
    assert [l.name for l in document.layers] == ["Background", "Middle", "Top"]
    assert document.modified  # the saved state fell off the end: it cannot be reached by undo


def test_history_is_bounded_in_steps_too_and_announces_changes():
    document = Document.blank(8, 8)
    document.history.max_steps = 5
    calls = []
    document.history.changed.connect(lambda: calls.append(1))
    for index in range(9):
        document.history.do(RenameLayer(document.layers[0].id, f"N{index}"))
    assert document.history.index == 5 and len(calls) == 9


def test_generated_layers_are_named_after_their_prompt():
    assert layer_name_from_prompt("  a red\nfox  ") == "a red fox"
    long = layer_name_from_prompt("a very detailed painting of a lighthouse at dusk, oil on canvas")
    assert long.endswith("…") and len(long) <= 41 and long.startswith("a very detailed painting of a")
    assert layer_name_from_prompt("") == "Generated"
    document = make_document()
    command = document.history.do(AddGeneratedLayer(np.zeros((8, 8, 3), np.uint8), "castle", 3, 4, "Steps: 4"))
    assert command.label == "Generate: castle"
    assert document.active_layer.name == "castle" and document.active_layer.bounds == Rect(3, 4, 8, 8)
    assert document.active_layer.parameters == "Steps: 4" and document.layers[-1] is document.active_layer
