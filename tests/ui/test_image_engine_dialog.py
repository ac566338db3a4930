"""Settings > Image Engine with the real dialog: checked as typed, nothing sent before Connect, a real ComfyUI."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from comfyui_peer import CHECKPOINT_NAME
from comfyui_proxy import HostileProxy
from desktop.ui.image_engine_dialog import COMFYUI, LOCAL, ImageEngineDialog


def _dialog(qtbot, engine=LOCAL, url="", token="", checkpoint=""):
    dialog = ImageEngineDialog(engine, url, token, checkpoint)
    qtbot.addWidget(dialog)
    dialog.show()
    chosen = []
    dialog.chosen.connect(chosen.append)
    return dialog, chosen


def test_addresses_are_checked_as_typed_and_a_bad_one_is_not_saved(qtbot):
    dialog, chosen = _dialog(qtbot)
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url, "192.168.1.20:8188")
    assert "no http:// or https:// in front" in dialog.status.text()
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, "http://user:pw@host:8188")
    assert "Leave the user name and password out" in dialog.status.text()
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert chosen == [] and dialog.isVisible()
    qtbot.mouseClick(dialog.local, Qt.MouseButton.LeftButton)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert chosen[0].engine == LOCAL and not dialog.isVisible()


def test_nothing_is_sent_before_connect_then_the_servers_checkpoints_are_listed(qtbot, comfyui_server):
    guarded = HostileProxy(comfyui_server.port, token="dialog-Token-1")
    try:
        dialog, chosen = _dialog(qtbot)
        qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.url, guarded.url)
        qtbot.keyClicks(dialog.token, "dialog-Token-1")
        qtbot.wait(300)
        assert guarded.heads == []  # typing an address contacts nobody
        assert dialog.status.text() == f"Will use {guarded.url}"
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.checkpoints.count() > 0, timeout=30_000)
        assert dialog.checkpoints.currentText() == CHECKPOINT_NAME
        assert dialog.status.text().startswith("Connected to ComfyUI ")
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        assert chosen[0].engine == COMFYUI and chosen[0].url == guarded.url
        assert chosen[0].token == "dialog-Token-1" and chosen[0].checkpoint == CHECKPOINT_NAME
        assert "dialog-Token-1" not in repr(chosen[0])
    finally:
        guarded.close()


def test_a_hung_server_never_freezes_the_dialog(qtbot, comfyui_server):
    dialog, _ = _dialog(qtbot, COMFYUI, comfyui_server.url)
    comfyui_server.pause()
    try:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        started = time.monotonic()
        qtbot.wait(500)  # the event loop runs: the question waits on the client's lane
        assert not dialog.connect_button.isEnabled() and "Asking" in dialog.status.text()
        dialog.reject()  # closing stops the client without waiting for the silent server
        assert time.monotonic() - started < 2.0
    finally:
        comfyui_server.resume()
