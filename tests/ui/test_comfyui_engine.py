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
