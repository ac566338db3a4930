"""OpenRaster projects: round trips, validity for Krita and GIMP, clear errors, saves that survive a kill."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.core import openraster
from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer, SetLayerOpacity, SetLayerVisibility
from desktop.core.geometry import Rect
from desktop.core.openraster import ProjectError, load_ora, save_ora

REPO = Path(__file__).resolve().parents[2]


def make_document() -> Document:
    rng = np.random.default_rng(7)
    document = Document.blank(96, 64)
    document.history.do(AddLayer(Layer("Sketch", rng.integers(0, 256, (64, 96, 4), dtype=np.uint8))))
    document.history.do(AddLayer(Layer("Fox, ünïcode & <tags>", rng.integers(0, 256, (20, 30, 4), dtype=np.uint8), x=-5, y=40, parameters="a fox\nSteps: 4, Seed: 1")))
    document.history.do(SetLayerOpacity(document.layers[1].id, 0.35))
    document.history.do(SetLayerVisibility(document.layers[0].id, False))
    mask = np.zeros((64, 96), np.uint8)
    mask[10:20, 30:50] = 200
    document.replace_mask(mask)
    document.set_selection(Rect(8, 9, 40, 30))
    document.set_active_layer(document.layers[1].id)
    return document


def test_round_trip_keeps_everything_a_project_has(tmp_path):
    document = make_document()
    path = tmp_path / "project.ora"
    save_ora(document, path)
    loaded = load_ora(path)
    assert (loaded.width, loaded.height) == (96, 64)
    for mine, theirs in zip(document.layers, loaded.layers, strict=True):
        assert (theirs.name, theirs.x, theirs.y, theirs.visible, theirs.id, theirs.parameters) == (
            mine.name, mine.x, mine.y, mine.visible, mine.id, mine.parameters)
        assert theirs.opacity == pytest.approx(mine.opacity, abs=1e-4)
        assert np.array_equal(theirs.pixels, mine.pixels)
    assert loaded.active_layer.id == document.layers[1].id
    assert np.array_equal(loaded.mask, document.mask) and loaded.selection == Rect(8, 9, 40, 30)
    assert not loaded.modified and loaded.path == path and loaded.history.index == 0
    assert np.array_equal(loaded.composite(), document.composite())


def test_the_file_is_valid_openraster(tmp_path):
    document = make_document()
    path = tmp_path / "valid.ora"
    save_ora(document, path)
    raw = path.read_bytes()
    # Readers sniff the type at a fixed offset: "mimetype" then its content, uncompressed, right at the start.
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and not first.extra
        assert archive.testzip() is None
        root = ElementTree.fromstring(archive.read("stack.xml"))
        assert root.tag == "image" and (root.get("w"), root.get("h")) == ("96", "64")
        layers = root.find("stack").findall("layer")
        assert [l.get("name") for l in layers] == ["Fox, ünïcode & <tags>", "Sketch", "Background"]  # top first
        assert [l.get("visibility") for l in layers] == ["visible", "visible", "hidden"]
        assert float(layers[1].get("opacity")) == pytest.approx(0.35) and layers[0].get("x") == "-5"
        for layer in layers:
            assert layer.get("src").startswith("data/") and layer.get("composite-op") == "svg:src-over"
            Image.open(io.BytesIO(archive.read(layer.get("src")))).verify()
        merged = np.asarray(Image.open(io.BytesIO(archive.read("mergedimage.png"))))
        assert np.array_equal(merged, document.composite())
        thumbnail = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
        assert max(thumbnail.size) <= 256


def test_a_large_canvas_gets_a_small_thumbnail(tmp_path):
    path = tmp_path / "wide.ora"
    save_ora(Document.blank(600, 300), path, compress_level=1)
    with zipfile.ZipFile(path) as archive:
        assert Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png"))).size == (256, 128)


def write_zip(path: Path, members: dict[str, bytes], mimetype: bytes | None = b"image/openraster") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_nested_stacks_from_krita_load_with_group_properties(tmp_path):
    stack = b"""<?xml version="1.0"?><image w="16" h="16"><stack>
      <stack name="Group" x="2" y="3" opacity="0.5" visibility="visible">
        <layer name="Inner" src="data/a.png" x="1" y="1" opacity="0.5"/>
      </stack>
      <layer name="Base" src="data/b.png" selected="true"/>
    </stack></image>"""
    path = write_zip(tmp_path / "krita.ora", {
        "stack.xml": stack,
        "data/a.png": png(np.full((4, 4, 4), 200, np.uint8)),
        "data/b.png": png(np.zeros((16, 16, 3), np.uint8)),
    })
    document = load_ora(path)
    assert [l.name for l in document.layers] == ["Base", "Inner"]
    inner = document.layers[1]
    assert (inner.x, inner.y) == (3, 4) and inner.opacity == pytest.approx(0.5)  # its own; the group keeps its own
    [group] = inner.groups
    assert (group.name, group.opacity, group.visible) == ("Group", 0.5, True)
    assert document.layers[0].groups == ()
    assert document.active_layer.name == "Base"
    # drawn as the group says: grey 200 at alpha 200/255, at 0.5 inside a group at 0.5, over black
    assert document.composite()[4, 3, 0] == round(200 * 200 / 255 * 0.5 * 0.5)


BAD_FILES = {
    "not a zip": lambda p: p.write_bytes(b"hello, this is not a zip"),
    "empty": lambda p: p.write_bytes(b""),
    "wrong mimetype": lambda p: write_zip(p, {"stack.xml": b"<image/>"}, b"application/zip"),
    "no stack": lambda p: write_zip(p, {"data/a.png": b""}),
    "bad xml": lambda p: write_zip(p, {"stack.xml": b"<image w='4' h='4'><stack>"}),
    "no image element": lambda p: write_zip(p, {"stack.xml": b"<layers/>"}),
    "bad size": lambda p: write_zip(p, {"stack.xml": b"<image w='four' h='4'><stack/></image>"}),
    "missing layer": lambda p: write_zip(p, {"stack.xml": b"<image w='4' h='4'><stack><layer src='data/x.png'/></stack></image>"}),
    "bad png": lambda p: write_zip(p, {"stack.xml": b"<image w='4' h='4'><stack><layer name='L' src='data/x.png'/></stack></image>",
                                       "data/x.png": b"\x89PNG\r\n\x1a\nnot really"}),
}
MESSAGES = {
    "not a zip": "damaged or incomplete", "empty": "damaged or incomplete", "wrong mimetype": "not an OpenRaster",
    "no stack": "no stack.xml", "bad xml": "damaged stack.xml", "no image element": "without an <image>",
    "bad size": "not a whole number", "missing layer": "missing from the file", "bad png": "layer 'L'",
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_broken_projects_give_a_clear_error(tmp_path, case):
    path = tmp_path / "bad.ora"
    BAD_FILES[case](path)
    with pytest.raises(ProjectError, match=MESSAGES[case]):
        load_ora(path)


def test_a_truncated_project_and_a_huge_canvas_are_refused(tmp_path):
    good = tmp_path / "good.ora"
    save_ora(make_document(), good)
    truncated = tmp_path / "truncated.ora"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ProjectError, match="damaged or incomplete"):
        load_ora(truncated)
    huge = write_zip(tmp_path / "huge.ora", {"stack.xml": b"<image w='30000' h='30000'><stack/></image>"})
    with pytest.raises(ProjectError, match="16384 pixels per side"):
        load_ora(huge)
    with pytest.raises(ProjectError, match="does not exist"):
        load_ora(tmp_path / "nowhere.ora")


def test_a_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.ora"
    save_ora(make_document(), path)
    old = path.read_bytes()

    def broken(pixels, compress_level=6):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openraster, "encode_png", broken)
    with pytest.raises(OSError, match="No space"):
        save_ora(Document.blank(8, 8), path)
    assert path.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ["keep.ora"]


# The child saves a new version through a PNG encoder that stops for good after the first layer,
# so the kill lands in the middle of the save every time, not by luck of timing.
SLOW_SAVE = r"""
import sys, time
import numpy as np
from desktop.core import openraster
from desktop.core.document import Document, Layer

real, calls = openraster.encode_png, []
def stalling(pixels, compress_level=6):
    calls.append(1)
    if len(calls) == 2:
        print("saving", flush=True)
        time.sleep(120)
    return real(pixels, compress_level)

openraster.encode_png = stalling
document = Document.blank(64, 64, (0, 0, 0, 255))
document.insert_layer(1, Layer("Newer", np.full((64, 64, 4), 9, np.uint8)))
openraster.save_ora(document, sys.argv[1])
"""


def test_a_save_killed_midway_leaves_the_old_file_intact_and_loadable(tmp_path):
    path = tmp_path / "project.ora"
    document = make_document()
    save_ora(document, path)
    old = path.read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout.readline().strip() == "saving"
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(partial) == 1 and partial[0].stat().st_size > 0  # the new version was being written
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert path.read_bytes() == old
    loaded = load_ora(path)
    assert [l.name for l in loaded.layers] == [l.name for l in document.layers]
    assert np.array_equal(loaded.composite(), document.composite())
