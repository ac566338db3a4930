"""Steering roles on layers: undoable, saved in .ora, read into the job; steering layers are not the picture."""

import numpy as np
import pytest

from desktop.core.canvas_inputs import canvas_inputs, generation_blocker
from desktop.core.canvas_steering import read_steering
from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer, DuplicateLayer, SetLayerSteering
from desktop.core.geometry import Rect
from desktop.core.openraster import load_ora, save_ora
from desktop.core.params import GenerationParams
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec

CANNY = ControlSpec("canny", "control_canny", 0.7, 0.1, 0.9)


def document() -> Document:
    """A 32 x 24 picture with a scribble layer, a region blob and a reference photo above it."""
    doc = Document.blank(32, 24, (200, 100, 50, 255))
    scribble = Layer.blank("sketch", 32, 24)
    scribble.pixels[10:12, :, :] = (0, 0, 0, 255)
    blob = Layer.blank("cat here", 32, 24)
    blob.pixels[:, :16] = (255, 0, 0, 255)
    photo = Layer("style photo", np.full((8, 8, 4), 90, np.uint8), x=40, y=40)  # off the canvas: still read whole
    for layer in (scribble, blob, photo):
        doc.history.do(AddLayer(layer))
    doc.history.do(SetLayerSteering(scribble.id, CANNY))
    doc.history.do(SetLayerSteering(blob.id, RegionSpec("a sleeping cat")))
    doc.history.do(SetLayerSteering(photo.id, ReferenceSpec("ip-adapter_sd15", 0.6, "style")))
    return doc


def test_roles_undo_redo_and_survive_duplicate():
    doc = document()
    sketch = doc.layers[1]
    assert sketch.steering == CANNY
    doc.history.do(SetLayerSteering(sketch.id, ControlSpec("canny", "control_canny", enabled=False)))
    doc.history.undo()
    assert sketch.steering == CANNY
    doc.history.do(SetLayerSteering(sketch.id, None))
    assert sketch.steering is None and doc.history.undo_label == "Picture layer"
    doc.history.undo()
    doc.history.do(DuplicateLayer(sketch.id))
    assert doc.active_layer.steering == CANNY and doc.active_layer.name == "sketch copy"


def test_roles_are_saved_in_the_ora_and_read_back(tmp_path):
    doc = document()
    save_ora(doc, tmp_path / "steer.ora")
    again = load_ora(tmp_path / "steer.ora")
    assert [layer.steering for layer in again.layers] == [layer.steering for layer in doc.layers]
    import zipfile

    stack = zipfile.ZipFile(tmp_path / "steer.ora").read("stack.xml").decode()
    assert "atelier:steering=" in stack and "&quot;type&quot;: &quot;canny&quot;" in stack


def test_a_damaged_role_opens_as_a_plain_layer(tmp_path):
    import zipfile

    save_ora(document(), tmp_path / "a.ora")
    with zipfile.ZipFile(tmp_path / "a.ora") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["stack.xml"] = members["stack.xml"].replace(b"canny", b"laser")
    with zipfile.ZipFile(tmp_path / "b.ora", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert [layer.steering is None for layer in load_ora(tmp_path / "b.ora").layers] == [True, True, False, False]


def test_the_job_reads_enabled_roles_with_their_layer_names_and_pixels():
    doc = document()
    params, fields = read_steering(doc, Rect(0, 0, 32, 24), GenerationParams(width=64, height=64))
    assert params.controls == (ControlSpec("canny", "control_canny", 0.7, 0.1, 0.9, layer="sketch"),)
    assert params.regions == (RegionSpec("a sleeping cat", layer="cat here"),)
    assert params.references == (ReferenceSpec("ip-adapter_sd15", 0.6, "style", layer="style photo"),)
    control = np.frombuffer(fields["control_images"][0].data, np.uint8).reshape(24, 32, 4)
    assert (control[10:12, :, 3] == 255).all() and (control[:10, :, 3] == 0).all()
    mask = np.frombuffer(fields["region_masks"][0].data, np.uint8).reshape(24, 32)
    assert (mask[:, :16] == 255).all() and (mask[:, 16:] == 0).all()
    assert (fields["reference_images"][0].width, fields["reference_images"][0].height) == (8, 8)
    doc.history.do(SetLayerSteering(doc.layers[1].id, ControlSpec("canny", "control_canny", enabled=False)))
    params, fields = read_steering(doc, Rect(16, 0, 16, 24), GenerationParams(width=64, height=64))
    assert params.controls == () and params.regions == ()  # off; and the region lies outside this area


def test_the_visible_canvas_as_control_reads_the_picture_without_steering_layers():
    doc = document()
    doc.history.do(AddLayer(Layer.blank("canvas control", 32, 24)))
    doc.history.do(SetLayerSteering(doc.active_layer.id, ControlSpec("depth", "cn", source="canvas")))
    params, fields = read_steering(doc, doc.rect, GenerationParams())
    assert params.controls[1].layer == "Visible canvas"
    seen = np.frombuffer(fields["control_images"][1].data, np.uint8).reshape(24, 32, 4)
    assert (seen == (200, 100, 50, 255)).all()  # only the picture: no scribble, no region blob


def test_img2img_starts_from_the_picture_alone_and_a_missing_model_blocks():
    doc = document()
    inputs = canvas_inputs(doc, "img2img")
    assert (inputs.image == (200, 100, 50)).all()
    doc.history.do(SetLayerSteering(doc.layers[1].id, ControlSpec("canny", "")))
    assert "has no ControlNet chosen" in generation_blocker(doc, "txt2img")


def test_layer_rejects_something_that_is_not_a_role():
    with pytest.raises(ValueError, match="steering role"):
        Layer.blank("x", 2, 2).__class__("x", np.zeros((2, 2, 4), np.uint8), steering="canny")
