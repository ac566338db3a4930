"""Groups and blend modes in .ora files as Krita, GIMP and MyPaint write them: read, drawn as those
programs draw them, and saved back without losing either; what cannot be kept is said on opening."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
import zipfile

import numpy as np
import pytest
from ora_samples import BLUE, GREY, RED, WHITE, gimp_file, krita_file, mypaint_file
from blend_reference import BLENDS, blend_over

from desktop.core.openraster import load_ora, save_ora


def _over(below, color, alpha, blend="svg:src-over"):
    """One opaque backdrop pixel (0..255 RGB) under a source colour: the reference, as 0..255 RGB."""
    out, _ = blend_over([c / 255 for c in below], 1.0, [c / 255 for c in color[:3]], alpha, BLENDS[blend])
    return [round(c * 255) for c in out]


def _close(got, expected):
    return np.abs(np.asarray(got[:3], int) - np.asarray(expected, int)).max() <= 1


def test_gimp_multiply_layer_under_a_group_at_half_opacity(tmp_path):
    document = load_ora(gimp_file(tmp_path / "gimp.ora"))
    assert [(l.name, l.blend, [g.name for g in l.groups]) for l in document.layers] == [
        ("Background", "svg:src-over", []), ("grey", "svg:multiply", []), ("blue", "svg:src-over", ["Shade"])]
    shade = document.layers[2].groups[0]
    assert (shade.opacity, shade.isolation, shade.isolated) == (0.5, "auto", True)  # opacity < 1 isolates
    tinted = _over(RED[:3], GREY, 1.0, "svg:multiply")  # was drawn as plain grey before blend modes
    assert _close(document.composite()[0, 0], _over(tinted, BLUE, 0.5))
    assert document.notes == []


def test_krita_pass_through_and_screen_groups_are_drawn_as_krita_draws_them(tmp_path):
    document = load_ora(krita_file(tmp_path / "krita.ora"))
    names = [(l.name, l.blend, [g.name for g in l.groups], l.visible) for l in document.layers]
    assert names == [("Background", "svg:src-over", [], True), ("burn", "krita:linear_burn", ["Glow"], False),
                     ("blue", "svg:src-over", ["Glow"], True), ("tint", "svg:multiply", ["Pass"], True)]
    tint = document.layers[3]
    assert tint.groups[0].isolation == "auto" and not tint.groups[0].isolated  # pass-through
    assert dict(tint.extra_attributes) == {"edit-locked": "true"}
    assert document.active_layer.name == "tint"
    # the Glow group (blue at 0.5, drawn alone) screens onto the red background; above it the pass-through
    # group's multiply layer reaches everything below, as if there were no group
    glow = _over(RED[:3], BLUE, 0.5, "svg:screen")
    assert _close(document.composite()[1, 1], _over(glow, GREY, 1.0, "svg:multiply"))
    notes = " ".join(document.notes)
    assert "1 <filter> element" in notes and "saving over this file would drop them" in notes
    assert "krita:linear_burn" in notes and "shown as Normal" in notes


def test_mypaint_darken_group_with_offsets(tmp_path):
    document = load_ora(mypaint_file(tmp_path / "mypaint.ora"))
    ink = document.layers[1]
    assert (ink.x, ink.y) == (3, 1) and ink.groups[0].blend == "svg:darken"
    assert "{http://mypaint.org/ns/openraster}bumpself" in dict(ink.extra_attributes)
    picture = document.composite()
    assert _close(picture[1, 3], _over(WHITE[:3], BLUE, 1.0, "svg:darken")) and _close(picture[0, 0], WHITE[:3])


@pytest.mark.parametrize("make", [gimp_file, krita_file, mypaint_file], ids=["gimp", "krita", "mypaint"])
def test_saving_keeps_groups_blend_modes_and_other_programs_attributes(tmp_path, make):
    original = load_ora(make(tmp_path / "theirs.ora"))
    save_ora(original, tmp_path / "ours.ora")
    again = load_ora(tmp_path / "ours.ora")

    def described(document):
        return [(l.name, l.blend, l.visible, round(l.opacity, 4), l.x, l.y, l.extra_attributes,
                 [(g.name, g.blend, g.isolation, round(g.opacity, 4), g.visible, g.id) for g in l.groups])
                for l in document.layers]

    assert described(again) == described(original)
    assert np.array_equal(again.composite(), original.composite())
    # and the file itself nests the layers in <stack>s with their composite-ops, as the others read it
    with zipfile.ZipFile(tmp_path / "ours.ora") as archive:
        root = ElementTree.fromstring(archive.read("stack.xml"))
    for layer in original.layers:
        for group in layer.groups:
            found = [s for s in root.iter("stack") if s.get("name") == group.name]
            assert found and found[0].get("composite-op") == group.blend
            assert any(child.get("name") == layer.name for child in found[0].iter("layer"))
    blends = {l.get("name"): l.get("composite-op") for l in root.iter("layer")}
    assert blends == {l.name: l.blend for l in original.layers}


def test_the_autosave_copy_keeps_groups_and_blend_modes(tmp_path):
    from desktop.core.recovery import snapshot

    original = load_ora(krita_file(tmp_path / "krita.ora"))
    copy = snapshot(original)
    assert [(l.blend, l.groups, l.extra_attributes, l.id) for l in copy.layers] == \
        [(l.blend, l.groups, l.extra_attributes, l.id) for l in original.layers]
    assert np.array_equal(copy.composite(), original.composite())
    assert all(mine.pixels is not theirs.pixels for mine, theirs in zip(copy.layers, original.layers))


def test_a_layer_added_inside_a_group_joins_it_so_the_group_saves_in_one_piece(tmp_path):
    from desktop.core.document import Layer
    from desktop.core.edits import AddLayer

    document = load_ora(krita_file(tmp_path / "krita.ora"))
    glow = document.layers[1].groups
    document.history.do(AddLayer(Layer("new", np.zeros((2, 2, 4), np.uint8)), index=2))
    assert document.layers[2].name == "new" and document.layers[2].groups == glow
    save_ora(document, tmp_path / "again.ora")
    with zipfile.ZipFile(tmp_path / "again.ora") as archive:
        root = ElementTree.fromstring(archive.read("stack.xml"))
    assert [s.get("name") for s in root.iter("stack")][1:] == ["Pass", "Glow"]  # one Glow, not two
