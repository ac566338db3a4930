"""Steering from the Layers panel with real actions: mark a painted layer as a control layer, see what the
ControlNet will read, generate, see the result; a region, a reference file and the visible canvas too."""

import numpy as np
import pytest
from canvas_support import corner, drag, gradient, write_png
from PySide6.QtCore import Qt

from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec


@pytest.fixture
def atelier(start_atelier, tiny_sd15, tiny_controlnet, tiny_ip_adapter):
    return start_atelier({"tiny-sd15": tiny_sd15, "controlnet/tiny-canny": tiny_controlnet,
                          "ipadapter": tiny_ip_adapter}, size=(1100, 760), steps=2, seed=42)


def _generate(qtbot, atelier, prompt: str):
    panel, controller = atelier.window.prompt_panel, atelier.controller
    panel.prompt.setPlainText(prompt)
    before = len(controller.results)
    qtbot.waitUntil(panel.generate_button.isEnabled, timeout=3000)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    job = list(controller.handles.values())[-1].job  # the one just queued (after a preload, if that still runs)
    qtbot.waitUntil(lambda: len(controller.results) > before and controller.idle, timeout=90000)
    return job, controller.results[-1]


def _ok(qtbot, dialog):
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)


def test_a_painted_layer_becomes_a_control_layer_with_a_preview_and_steers_the_result(qtbot, atelier, tmp_path):
    window, workspace, docs = atelier.window, atelier.workspace, atelier.workspace.documents
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    qtbot.mouseClick(workspace.layers.buttons["add"], Qt.MouseButton.LeftButton)
    sketch = docs.document.active_layer
    window.canvas.tools.set_tool("brush")
    window.canvas.tools.set_size(6)
    drag(qtbot, window.canvas, [(8, 40), (30, 20), (56, 44)])
    assert sketch.pixels[..., 3].any()
    atelier.steering.actions["control"].trigger()  # Layers panel: Steer > Use as Control Layer…
    dialog = atelier.steering.dialog
    assert dialog.isVisible() and dialog.type.currentData() == "scribble"
    assert dialog.model.currentData() == "tiny-canny"
    qtbot.waitUntil(lambda: not dialog.preview.pixmap().isNull(), timeout=30000)  # made on the lane
    seen = dialog.preview.pixmap().toImage()
    assert seen.pixelColor(seen.width() * 30 // 64, seen.height() * 20 // 64).lightness() > 200  # the stroke, white
    assert seen.pixelColor(2, 2).lightness() < 40  # the rest, black
    dialog.grab().save(str(tmp_path / "control-dialog.png"))
    dialog.weight.setValue(0.8)
    _ok(qtbot, dialog)
    assert sketch.steering == ControlSpec("scribble", "tiny-canny", 0.8)
    assert "Control: Scribble / sketch, tiny-canny" in workspace.layers.list.currentItem().toolTip()
    job, result = _generate(qtbot, atelier, "a red boat")
    assert job.params.controls == (ControlSpec("scribble", "tiny-canny", 0.8, layer=sketch.name),)
    control = np.frombuffer(job.control_images[0].data, np.uint8).reshape(64, 64, 4)
    assert np.array_equal(control, sketch.pixels)
    assert 'ControlNet 0: "Module: invert (from white bg & black line), Model: tiny-canny, Weight: 0.8' in \
        docs.document.layers[-1].parameters
    assert [layer.name for layer in docs.document.layers] == ["photo", sketch.name, "a red boat"]
    window.grab().save(str(tmp_path / "control-result.png"))
    workspace.actions["undo"].trigger()  # the result
    workspace.actions["undo"].trigger()  # the control role
    assert sketch.steering is None
    dock = atelier.gallery.dock  # Reuse settings marks the layer of that name again
    qtbot.waitUntil(lambda: dock.select_path(result.path), timeout=10000)
    dock.buttons["reuse"].click()
    assert sketch.steering == ControlSpec("scribble", "tiny-canny", 0.8)
    refusals = []
    dock.show_error = refusals.append
    dock.buttons["reproduce"].click()
    assert "steered by control" in refusals[0]
    assert atelier.prompt.controls  # Reuse settings also put the image's record in the prompt model…
    layers = workspace.layers.list
    qtbot.mouseClick(layers.viewport(), Qt.MouseButton.LeftButton, pos=layers.visualItemRect(layers.item(0)).center())
    assert docs.document.active_layer is sketch
    atelier.steering.actions["toggle"].trigger()  # …but only the canvas's enabled layers steer: off is off
    job, _ = _generate(qtbot, atelier, "a red boat")
    assert job.params.controls == () and job.control_images == ()


def test_a_region_a_reference_file_and_the_visible_canvas_go_into_the_job(qtbot, atelier, tmp_path):
    workspace, docs, steering = atelier.workspace, atelier.workspace.documents, atelier.steering
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    qtbot.mouseClick(workspace.layers.buttons["add"], Qt.MouseButton.LeftButton)
    blob = docs.document.active_layer
    atelier.window.canvas.tools.set_size(24)
    drag(qtbot, atelier.window.canvas, [(12, 12), (20, 20)])
    steering.actions["region"].trigger()
    qtbot.keyClicks(steering.dialog.prompt, "a sleeping cat")
    _ok(qtbot, steering.dialog)
    assert blob.steering == RegionSpec("a sleeping cat")
    qtbot.keyClick(atelier.window.canvas, Qt.Key.Key_M)  # a second region from a selection
    drag(qtbot, atelier.window.canvas, [(40, 40), (63, 63)], where=corner)
    steering.actions["region-selection"].trigger()
    qtbot.keyClicks(steering.dialog.prompt, "a red ball")
    _ok(qtbot, steering.dialog)
    ball = docs.document.active_layer
    assert ball.steering == RegionSpec("a red ball") and ball.pixels[50, 50, 3] == 160 and ball.pixels[20, 20, 3] == 0
    workspace.actions["deselect"].trigger()
    steering.ask_reference_path = lambda: str(write_png(tmp_path / "style.png", gradient(48, 48)))
    steering.actions["reference-file"].trigger()
    steering.dialog.weight.setValue(0.5)
    steering.dialog.mode.setCurrentIndex(steering.dialog.mode.findData("style"))
    _ok(qtbot, steering.dialog)
    reference = docs.document.active_layer
    assert reference.name == "style" and not reference.visible
    assert reference.steering == ReferenceSpec("ip-adapter_tiny", 0.5, "style")
    steering.actions["canvas-control"].trigger()
    qtbot.waitUntil(lambda: not steering.dialog.preview.pixmap().isNull(), timeout=30000)
    _ok(qtbot, steering.dialog)
    job, result = _generate(qtbot, atelier, "a garden")
    assert job.params.regions == (RegionSpec("a sleeping cat", layer=blob.name), RegionSpec("a red ball", "Region"))
    assert job.params.references == (ReferenceSpec("ip-adapter_tiny", 0.5, "style", layer="style"),)
    assert job.params.controls[0].source == "canvas" and job.params.controls[0].layer == "Visible canvas"
    canvas_control = np.frombuffer(job.control_images[0].data, np.uint8).reshape(64, 64, 4)
    assert np.array_equal(canvas_control, gradient())  # the picture: no region blob in it
    assert result.params.regions and docs.document.layers[-1].name == "a garden"
    atelier.window.grab().save(str(tmp_path / "steering-layers.png"))
    layers = workspace.layers.list
    row = layers.item(1)  # the canvas control layer, just under the result
    qtbot.mouseClick(layers.viewport(), Qt.MouseButton.LeftButton, pos=layers.visualItemRect(row).center())
    assert docs.document.active_layer.steering.source == "canvas"
    steering.actions["toggle"].trigger()  # off: kept, not used
    assert docs.document.active_layer.steering.enabled is False
    assert docs.document.history.undo_label == "Control layer off"



def test_a_controlnet_in_another_apps_folder_steers_from_where_it_lies(qtbot, start_atelier, tiny_sd15,
                                                                       tiny_controlnet, tmp_path):
    """Settings > Model Folders: an A1111 folder's models/ControlNet is offered in the dialog and used in place."""
    import shutil

    webui = tmp_path / "stable-diffusion-webui"
    shutil.copytree(tiny_controlnet, webui / "models" / "ControlNet" / "control_tiny_canny")
    (webui / "models" / "Stable-diffusion").mkdir()  # how Atelier knows an A1111 folder
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, size=(1100, 760), steps=2, seed=42,
                            extra_model_dirs=[str(webui)])
    assert [e.name for e in atelier.prompt.steering_models] == ["control_tiny_canny"]
    docs = atelier.workspace.documents
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    atelier.steering.actions["control"].trigger()
    dialog = atelier.steering.dialog
    assert dialog.model.currentData() == "control_tiny_canny"
    dialog.type.setCurrentIndex(dialog.type.findData("canny"))
    qtbot.waitUntil(lambda: not dialog.preview.pixmap().isNull(), timeout=30000)
    _ok(qtbot, dialog)
    job, result = _generate(qtbot, atelier, "a harbour")
    assert result.params.controls == (ControlSpec("canny", "control_tiny_canny", layer="photo"),)
    assert any(e.path.startswith(str(webui)) for e in job.addons)  # the lane loads it where it lies
    assert not any((atelier.paths.models_dir / "controlnet").glob("*"))  # nothing copied
