"""Settings > Chat Engine and Settings > Model Folders in the running app, used as a person uses them."""

from __future__ import annotations

import json
import time

import pytest
from chat_servers import TINY_REPO
from PySide6.QtCore import QTimer, Qt

from desktop.core import chat_server
from desktop.core.chat_store import ChatStore
from desktop.core.settings import Settings
from desktop.worker.server_client import ServerClient
from tests.core import model_trees


def action(app, menu: str, text: str):
    return next(a for a in app.window.menus[menu].actions() if a.text().replace("&", "") == text)


def choose_server(qtbot, app, url: str, model: str, key: str = ""):
    action(app, "&Settings", "Chat Engine…").trigger()
    dialog = app.connections.engine_dialog
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    dialog.url.setText(url)
    if key:
        qtbot.keyClicks(dialog.key, key)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith(("Connected", "⚠")), timeout=30000)
    dialog.models.setCurrentText(model)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    return dialog


def say(qtbot, app, text: str):
    panel = app.chat.panel
    qtbot.keyClicks(panel.input, text)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    return panel


def test_chat_on_a_real_server_from_the_dock_saved_with_the_local_history(qtbot, start_atelier, tiny_chat,
                                                                         transformers_server, app_paths):
    app = start_atelier({"tiny-chat": tiny_chat})
    panel = app.chat.panel
    assert panel.selected_model().name == "tiny-chat"  # this computer by default
    choose_server(qtbot, app, transformers_server.url, TINY_REPO)
    saved = json.loads((app_paths.config_dir / "settings.json").read_text())
    assert (saved["chat_engine"], saved["chat_server_url"], saved["chat_server_model"]) == (
        "server", transformers_server.url + "/v1", TINY_REPO)
    assert isinstance(app.connections.server_client, ServerClient)
    assert panel.selected_model().name == TINY_REPO and panel.model.count() == 1
    app.refresh_models()  # a rescan keeps the server's model in the dock
    assert panel.selected_model().name == TINY_REPO
    panel.conversation_settings.max_new_tokens.setValue(12)
    say(qtbot, app, "Hello, server")
    qtbot.waitUntil(lambda: not panel.busy, timeout=60000)
    with ChatStore(app_paths.data_dir / "chat.sqlite3") as store:  # the same history file as local chats
        user, reply = store.messages(panel.conversation_id)
        assert user.content == "Hello, server" and reply.status == "complete" and reply.content
        assert store.conversation(panel.conversation_id).model == TINY_REPO
    assert panel.view.widgets[-1].content == reply.content

    action(app, "&Settings", "Chat Engine…").trigger()  # back to this computer
    dialog = app.connections.engine_dialog
    qtbot.mouseClick(dialog.local, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert app.connections.server_client is None and panel.selected_model().name == "tiny-chat"


def test_server_tool_calls_become_the_same_approval_cards(qtbot, start_atelier, scripted_server):
    app = start_atelier({})
    choose_server(qtbot, app, scripted_server(mode="tools").url, "scripted")
    panel = say(qtbot, app, "make it repeatable at 640x512")
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    seed_card, size_card = panel.view.widgets[-1].tool_cards
    prompt = app.window.prompt_panel
    prompt.lock.setChecked(True)
    assert prompt.seed.text() != "42"  # nothing happens before a decision
    qtbot.mouseClick(seed_card.approve_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(size_card.approve_button, Qt.MouseButton.LeftButton)
    assert prompt.seed.text() == "42" and (prompt.width_box.value(), prompt.height_box.value()) == (640, 512)


def test_a_hung_server_times_out_while_the_window_stays_responsive(qtbot, start_atelier, scripted_server,
                                                                  monkeypatch, app_paths):
    monkeypatch.setattr(chat_server, "READ_TIMEOUT_S", 1.5)
    app = start_atelier({})
    choose_server(qtbot, app, scripted_server(mode="stall").url, "scripted")
    ticks = []
    timer = QTimer(app.window, interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    panel = say(qtbot, app, "hello?")
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 40 and max(gaps) < 0.5  # the window kept painting the whole time
    assert "seems to hang" in panel.notice.text()
    widget = panel.view.widgets[-1]
    assert widget.content == "A partial reply" and widget.status == "error"  # the partial reply is kept


def test_stop_on_a_silent_server_ends_the_reply_at_once(qtbot, start_atelier, scripted_server):
    app = start_atelier({})
    choose_server(qtbot, app, scripted_server(mode="stall").url, "scripted")  # the default timeout: minutes
    panel = say(qtbot, app, "and now?")
    # the first piece shows at once; one that follows within the token interval shows with the next
    qtbot.waitUntil(lambda: len(panel.view.widgets) == 2 and panel.view.widgets[-1].content.startswith("A partial"),
                    timeout=10000)
    assert panel.busy
    start = time.monotonic()
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=3000)
    assert time.monotonic() - start < 1.5
    widget = panel.view.widgets[-1]
    assert widget.status == "stopped" and widget.content == "A partial reply"  # all that came is kept


def test_nothing_is_sent_anywhere_unless_a_server_was_chosen(qtbot, start_atelier, tiny_chat, monkeypatch):
    from tiny_checkpoints import refuse_network

    refuse_network(monkeypatch)  # any connection attempt fails the test
    app = start_atelier({"tiny-chat": tiny_chat})
    action(app, "&Settings", "Chat Engine…").trigger()
    dialog = app.connections.engine_dialog
    qtbot.mouseClick(dialog.server, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url, "http://192.0.2.1:11434")
    qtbot.keyClicks(dialog.key, "sk-never-sent")
    dialog.reject()  # the user changed their mind: nothing was contacted
    app.chat.panel.conversation_settings.max_new_tokens.setValue(4)
    panel = say(qtbot, app, "local only")
    qtbot.waitUntil(lambda: not panel.busy, timeout=60000)
    assert panel.view.widgets[-1].status == "complete" and app.connections.server_client is None


@pytest.fixture
def system_keyring():
    """The keyring backend the app finds (set through keyring's own API); the machine's is put back after."""
    import keyring

    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_without_a_keyring_the_key_lasts_the_session_and_the_dialog_says_so(qtbot, start_atelier, scripted_server,
                                                                            app_paths, system_keyring):
    from keyring.backends import fail

    system_keyring(fail.Keyring())  # a desktop with no password store
    app = start_atelier({})
    fake = scripted_server(key="sk-secret-77")
    choose_server(qtbot, app, fake.url, "scripted", key="sk-secret-77")
    assert "kept only until Atelier closes" in app.connections.engine_dialog.key_note.text()
    assert app.connections.keys.get(fake.url + "/v1") == "sk-secret-77"
    panel = say(qtbot, app, "hi")
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    assert panel.view.widgets[-1].content == "Hello from the server."
    assert fake.headers[-1]["Authorization"] == "Bearer sk-secret-77"
    for file in app_paths.config_dir.parent.rglob("*"):  # not in settings, history or anything else written
        if file.is_file():
            assert b"sk-secret-77" not in file.read_bytes(), file


def test_with_a_keyring_the_key_is_there_after_a_restart(qtbot, start_atelier, scripted_server, app_paths,
                                                         system_keyring):
    from tests.core.test_api_key import MemoryKeyring

    backend = MemoryKeyring()
    system_keyring(backend)
    fake = scripted_server(key="sk-kept-88")
    app = start_atelier({})
    choose_server(qtbot, app, fake.url, "scripted", key="sk-kept-88")
    assert list(backend.saved.values()) == ["sk-kept-88"]
    assert "sk-kept-88" not in (app_paths.config_dir / "settings.json").read_text()
    app.shutdown()
    from desktop.app import Atelier

    again = Atelier(paths=app_paths)  # the next start reads the key back from the keyring
    qtbot.addWidget(again.window)
    try:
        panel = again.chat.panel
        qtbot.keyClicks(panel.input, "remember me?")
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
        assert panel.view.widgets[-1].content == "Hello from the server."
    finally:
        again.shutdown()


def test_model_folders_from_other_apps_reach_the_pickers_and_an_unplugged_one_is_offline(
        qtbot, start_atelier, tmp_path, monkeypatch, app_paths):
    home = tmp_path / "home"
    webui = model_trees.a1111(home / "stable-diffusion-webui")
    monkeypatch.setenv("HOME", str(home))
    app = start_atelier({})
    assert app.window.prompt_panel.model_box.count() == 0
    action(app, "&Settings", "Model Folders…").trigger()
    dialog = app.connections.folders_dialog
    qtbot.waitExposed(dialog)
    row = dialog.row_for(str(webui))
    assert row >= 0 and dialog.table.item(row, 1).text().startswith("AUTOMATIC1111")
    dialog.table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    names = [app.window.prompt_panel.model_box.itemText(i) for i in range(app.window.prompt_panel.model_box.count())]
    assert any(n.startswith("dreamy-v1") for n in names)
    assert {"ink-style", "vae-ft-mse"} <= {e.name for e in app.prompt.addons}
    assert Settings.load(app_paths.config_dir / "settings.json").extra_model_dirs == [str(webui)]
    dialog.close()

    webui.rename(tmp_path / "unplugged")  # the drive goes away
    app.refresh_models()
    assert app.window.prompt_panel.model_box.count() == 0  # its models are gone; no error
    action(app, "&Settings", "Model Folders…").trigger()
    assert app.connections.folders_dialog.state_of(str(webui)).startswith("offline")
    (tmp_path / "unplugged").rename(webui)  # and comes back
    app.refresh_models()
    assert app.window.prompt_panel.model_box.count() > 0


def test_a_gguf_chats_from_the_dock_and_its_copy_is_dropped_in_the_models_window(qtbot, start_atelier, tiny_gguf,
                                                                                  app_paths, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(tmp_path / "gguf-cache"))  # a fresh cache: this start converts
    shutil.copy(tiny_gguf, app_paths.models_dir / tiny_gguf.name)
    app = start_atelier({})
    panel = app.chat.panel
    assert panel.selected_model().name == "tiny-chat.Q8_0" and panel.selected_model().quantization == "GGUF Q8_0"
    panel.conversation_settings.max_new_tokens.setValue(4)
    statuses = []
    app.worker.message.connect(lambda m: statuses.append(getattr(m, "text", "")))
    say(qtbot, app, "hello gguf")
    qtbot.waitUntil(lambda: not panel.busy, timeout=60000)
    assert panel.view.widgets[-1].status == "complete"
    assert any("Converting tiny-chat.Q8_0.gguf once" in s for s in statuses)
    action(app, "&File", "Models…").trigger()
    window = app.models.models_window
    row = next(i for i, e in enumerate(window.entries) if e.name == "tiny-chat.Q8_0")
    assert window.table.item(row, 6).text().startswith("GGUF Q8_0 · converted copy")
    window.table.setCurrentCell(row, 0)
    qtbot.mouseClick(window.drop_cache_button, Qt.MouseButton.LeftButton)
    assert not any((tmp_path / "gguf-cache").iterdir()) and (app_paths.models_dir / tiny_gguf.name).is_file()
    row = next(i for i, e in enumerate(window.entries) if e.name == "tiny-chat.Q8_0")
    assert window.table.item(row, 6).text() == "GGUF Q8_0 · converted once at first use"


def test_the_chosen_server_is_used_again_after_a_restart(qtbot, start_atelier, scripted_server):
    fake = scripted_server()
    app = start_atelier({}, chat_engine="server", chat_server_url=fake.url + "/v1", chat_server_model="other")
    panel = app.chat.panel
    assert panel.selected_model().name == "other" and app.connections.server_client.url == fake.url + "/v1"
    assert fake.requests == [] and fake.headers == []  # nothing is sent before the user chats
    say(qtbot, app, "still there?")
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    assert panel.view.widgets[-1].content == "Hello from the server." and fake.requests[-1]["model"] == "other"
