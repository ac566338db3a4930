"""The whole app with a real ComfyUI: choose it in Settings through the real dialog, press Generate, see the
result on the canvas and in the gallery; with the default settings nothing contacts any server."""

from __future__ import annotations

import json
import socket

from PySide6.QtCore import Qt

from comfyui_peer import CHECKPOINT_NAME


def _action(window, text):
    return next(a for a in window.menus["&Settings"].actions() if a.text() == text)


def test_choose_comfyui_in_settings_then_generate_reaches_canvas_and_gallery(qtbot, start_atelier, comfyui_server,
                                                                             app_paths):
    atelier = start_atelier({}, steps=1, guidance=1.0, scheduler="Euler", seed=11)  # no local model at all
    _action(atelier.window, "&Image Engine…").trigger()
    dialog = atelier.image_engine.dialog
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url, comfyui_server.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.checkpoints.count() > 0, timeout=30_000)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    panel = atelier.window.prompt_panel
    qtbot.waitUntil(lambda: atelier.prompt.selected_model is not None, timeout=30_000)
    assert atelier.prompt.selected_model.path == CHECKPOINT_NAME and not atelier.welcome.isVisible()
    qtbot.keyClicks(panel.prompt, "a harbour at dawn")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=180_000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10_000)
    document = atelier.workspace.documents.document
    assert [layer.name for layer in document.layers][-1].startswith("a harbour at dawn")
    assert result.path.startswith(str(app_paths.outputs_dir))
    dock = atelier.gallery.dock
    qtbot.waitUntil(lambda: dock.select_path(result.path), timeout=10_000)
    assert f"server: {comfyui_server.url}" in dock.details.toPlainText()  # the gallery says which server made it
    saved = json.loads((app_paths.config_dir / "settings.json").read_text())
    assert saved["image_engine"] == "comfyui" and saved["comfyui_url"] == comfyui_server.url


def test_with_default_settings_no_server_is_contacted(qtbot, start_atelier, monkeypatch):
    attempts = []
    real_connect = socket.socket.connect

    def watch(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", watch)
    atelier = start_atelier({})
    qtbot.wait(300)  # past the first paint, when a chosen server would be asked for its models
    _action(atelier.window, "&Image Engine…").trigger()  # opening the dialog sends nothing either
    qtbot.wait(100)
    assert atelier.image_engine.server_client is None and attempts == []


def test_a_control_layer_steers_an_image_made_on_the_server(qtbot, start_atelier, comfyui_server, tmp_path):
    from canvas_support import drag, gradient, write_png

    from comfyui_peer import CONTROLNET_NAME, add_controlnet
    from desktop.core.steering import ControlSpec

    add_controlnet(comfyui_server.base)
    atelier = start_atelier({}, size=(1100, 760), steps=1, guidance=1.0, scheduler="Euler", seed=11)
    _action(atelier.window, "&Image Engine…").trigger()
    dialog = atelier.image_engine.dialog
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url, comfyui_server.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.checkpoints.count() > 0, timeout=30_000)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    panel, window, workspace = atelier.window.prompt_panel, atelier.window, atelier.workspace
    qtbot.waitUntil(lambda: atelier.prompt.selected_model is not None, timeout=30_000)
    docs = workspace.documents
    assert docs.open_path(write_png(tmp_path / "photo.png", gradient()))
    qtbot.mouseClick(workspace.layers.buttons["add"], Qt.MouseButton.LeftButton)
    sketch = docs.document.active_layer
    window.canvas.tools.set_tool("brush")
    window.canvas.tools.set_size(6)
    drag(qtbot, window.canvas, [(8, 40), (30, 20), (56, 44)])
    atelier.steering.actions["control"].trigger()  # Layers panel: Steer > Use as Control Layer…
    steer = atelier.steering.dialog
    assert steer.model.currentData() == "atelier-random-control-sd15"  # the server's ControlNet is offered
    qtbot.waitUntil(lambda: not steer.preview.pixmap().isNull(), timeout=30_000)  # preprocessed on this computer
    steer.grab().save(str(tmp_path / "server-control-dialog.png"))
    qtbot.mouseClick(steer.buttons.button(steer.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert sketch.steering == ControlSpec("scribble", "atelier-random-control-sd15")
    panel.prompt.setPlainText("a red boat")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=180_000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.params.controls[0].model == CONTROLNET_NAME and result.params.controls[0].layer == sketch.name
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10_000)
    assert f"ControlNet 0: \"Module: invert (from white bg & black line), Model: {CONTROLNET_NAME}" in \
        docs.document.layers[-1].parameters
