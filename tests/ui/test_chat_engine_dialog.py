"""Settings > Chat Engine as a user meets it: type an address, Connect lists a real server's models, Save."""

from __future__ import annotations

import time

from chat_servers import TINY_REPO
from PySide6.QtCore import QTimer, Qt

from desktop.ui.chat_engine_dialog import LOCAL, SERVER, ChatEngineChoice, ChatEngineDialog


def open_dialog(qtbot, engine=LOCAL, url="", key="", model="", notice=""):
    dialog = ChatEngineDialog(engine, url, key, model, notice)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    chosen = []
    dialog.chosen.connect(chosen.append)
    return dialog, chosen


def test_connect_to_a_real_server_pick_a_model_and_save(qtbot, transformers_server):
    dialog, chosen = open_dialog(qtbot)
    assert not dialog.server_fields.isEnabled()  # this computer until the user says otherwise
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url, "ftp://nope")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert "http:// or https://" in dialog.status.text() and dialog.client is None  # nothing was sent
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, transformers_server.url.removeprefix("http://"))  # as people type it
    assert dialog.status.text() == f"Will use {transformers_server.url}/v1"
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Connected"), timeout=30000)
    names = [dialog.models.itemText(i) for i in range(dialog.models.count())]
    assert TINY_REPO in names
    dialog.models.setCurrentText(TINY_REPO)
    dialog.grab().save("/tmp/plug/chat-engine.png")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert chosen == [ChatEngineChoice(SERVER, f"{transformers_server.url}/v1", "", TINY_REPO)]
    assert not dialog.isVisible()


def test_refusals_and_a_hung_server_leave_the_dialog_responsive(qtbot, scripted_server):
    dialog, chosen = open_dialog(qtbot, SERVER, scripted_server(key="sk-ok").url,
                                 notice="This computer has no working keyring")
    assert "no working keyring" in dialog.key_note.text()
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "needs an API key" in dialog.status.text(), timeout=10000)
    qtbot.keyClicks(dialog.key, "sk-ok")
    assert dialog.key.echoMode() == dialog.key.EchoMode.Password
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text() == "Connected: 2 models.", timeout=10000)

    hung = scripted_server(mode="hang")
    dialog.url.setText(hung.url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    ticks = []
    timer = QTimer(dialog, interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    qtbot.wait(600)
    assert len(ticks) >= 10 and "Asking" in dialog.status.text()  # the window keeps painting while it waits
    start = time.monotonic()
    dialog.reject()  # closing stops the request: the socket is shut, no wait for the timeout
    assert time.monotonic() - start < 3 and dialog.client is None and chosen == []


def test_save_needs_a_model_for_a_server_and_local_needs_nothing(qtbot):
    dialog, chosen = open_dialog(qtbot, SERVER, "http://localhost:11434")
    dialog.save()
    assert "Choose a model" in dialog.status.text() and chosen == []
    dialog.models.setEditText("llama3.2:3b")  # a server that lists nothing may still serve a named model
    dialog.save()
    assert chosen == [ChatEngineChoice(SERVER, "http://localhost:11434/v1", "", "llama3.2:3b")]
    dialog, chosen = open_dialog(qtbot, SERVER, "http://localhost:11434")
    qtbot.mouseClick(dialog.local, Qt.MouseButton.LeftButton)
    dialog.save()
    assert chosen == [ChatEngineChoice(LOCAL)]
