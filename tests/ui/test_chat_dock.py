"""The chat dock with real widgets, the real lane, the real chat store and a tiny real chat model."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.core.chat_store import ChatStore
from desktop.core.messages import Token
from desktop.core.models import SD1, ModelEntry
from desktop.core.settings import Settings
from desktop.ui.canvas_view import CanvasView
from desktop.ui.chat.assistant_actions import AssistantActions
from desktop.ui.chat.enhance import PromptEnhancer
from desktop.ui.chat_dock import ChatPanel
from desktop.ui.generation_controller import GenerationController
from desktop.ui.prompt_panel import PromptPanel
from desktop.worker.chat_jobs import model_lane_handlers
from desktop.worker.client import LocalClient
from desktop.worker.image_jobs import image_handlers
from desktop.worker.lane import Worker

PLENTY = 64 * 1024 ** 3
REPLY = ("Here are two ideas:\n\n- a heron in **fog**\n- a fox in snow\n\n```prompt\na heron standing in morning fog, "
         "ink wash\n```\n")


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "chat.sqlite3") as opened:
        yield opened


@pytest.fixture
def client(qtbot, tmp_path, store):
    client = LocalClient(Worker(model_lane_handlers(image_handlers(lambda: tmp_path / "outputs"), store,
                                                    lambda: PLENTY)))
    client.start()
    yield client
    client.stop()


@pytest.fixture
def chat_entry(tiny_chat):
    return ModelEntry("tiny-chat", str(tiny_chat), "chat model", "qwen2")


@pytest.fixture
def prompt_panel(qtbot, tiny_sd15):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.model.set_models([ModelEntry("tiny-sd15", str(tiny_sd15), "checkpoint", SD1)])
    panel.model.update(width=64, height=64)
    return panel


@pytest.fixture
def controller(qtbot, client, prompt_panel):
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    return GenerationController(client, prompt_panel.model, prompt_panel, canvas)


@pytest.fixture
def dock(qtbot, store, client, chat_entry, prompt_panel, controller):
    panel = ChatPanel(store, client, Settings())
    qtbot.addWidget(panel)
    panel.resize(420, 700)
    panel.show()
    panel.set_models([chat_entry])
    panel.actions = AssistantActions(panel, prompt_panel.model, controller.request)
    panel.conversation_settings.max_new_tokens.setValue(24)
    panel.conversation_settings.temperature.setValue(1.0)
    return panel


def wait_idle(qtbot, dock, timeout=60000):
    qtbot.waitUntil(lambda: not dock.busy, timeout=timeout)


def last_widget(dock):
    return dock.view.widgets[-1] if dock.view.widgets else None


def saved_conversation(store, *turns, title="History"):
    conversation = store.create_conversation(title, max_new_tokens=16)  # short replies keep the tests fast
    for role, text in turns:
        store.add_message(conversation.id, role, text)
    return conversation.id


def test_send_a_message_and_tokens_appear_in_the_dock_as_they_stream(qtbot, dock, store):
    dock.conversation_settings.max_new_tokens.setValue(60)
    qtbot.keyClicks(dock.input, "Ideas for a painting?")
    qtbot.keyClick(dock.input, Qt.Key.Key_Return)
    assert dock.busy and dock.input.toPlainText() == "" and dock.stop_button.isEnabled()
    handle = dock.handle  # the chat job's own messages: Token pieces among them

    def on_screen():
        widget = last_widget(dock)
        if widget is None or widget.message.role != "assistant":
            return None
        return widget.status, widget.content, widget.text.toPlainText().strip()

    # looked at as each token arrives, after the dock drew it (a timer's polls can miss a short reply). On a
    # busy machine the lane may finish before the window shows the reply's start: the reply then appears
    # whole, and the tokens still in the queue must not cut it back to a piece
    seen = []
    handle.message.connect(lambda m: seen.append(on_screen()) if isinstance(m, Token) else None)
    wait_idle(qtbot, dock)
    assert seen and all(shown is not None for shown in seen), "a token arrived before the reply's place in the dock"
    assert any(text for _status, _content, text in seen), "no part of the reply was shown while it streamed"
    user, reply = store.messages(dock.conversation_id)
    assert (user.role, user.content) == ("user", "Ideas for a painting?")
    widget = last_widget(dock)
    assert reply.status == "complete" and widget.content == reply.content and widget.status == "complete"
    assert all(content == reply.content for status, content, _text in seen if status == "complete")
    # the tokens came as messages through the handle; the lane saved them, once: the store holds exactly them
    assert reply.content == "".join(m.text for m in handle.received if isinstance(m, Token))
    assert store.conversation(dock.conversation_id).title == "Ideas for a painting?"
    assert store.conversation(dock.conversation_id).model == "tiny-chat"
    assert not dock.stop_button.isEnabled() and dock.send_button.isEnabled()


def test_empty_messages_are_ignored(dock, store):
    dock.input.setPlainText("   \n ")
    assert dock.send() is None and not dock.busy
    assert store.list_conversations() == []


def test_stop_keeps_the_partial_reply_marked_stopped(qtbot, dock, store):
    dock.conversation_settings.max_new_tokens.setValue(400)
    dock.send("Tell me a very long story")
    qtbot.waitUntil(lambda: last_widget(dock).message.role == "assistant" and bool(last_widget(dock).content),
                    timeout=60000)
    qtbot.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, dock, timeout=10000)
    reply = store.messages(dock.conversation_id)[-1]
    widget = last_widget(dock)
    assert reply.status == "stopped" and reply.content and widget.content == reply.content
    assert "stopped" in widget.status_label.text()


def test_deleting_the_conversation_mid_reply_stops_it_quietly(qtbot, dock, store):
    dock.conversation_settings.max_new_tokens.setValue(400)
    dock.send("Tell me a very long story")
    qtbot.waitUntil(lambda: last_widget(dock).message.role == "assistant" and bool(last_widget(dock).content),
                    timeout=60000)
    dock.delete_conversation(dock.conversation_id, confirm=False)
    wait_idle(qtbot, dock, timeout=10000)
    assert store.list_conversations() == [] and dock.view.widgets == [] and dock.notice.text() == ""
    assert dock.send_button.isEnabled()


def test_regenerate_replaces_the_last_reply(qtbot, dock, store):
    dock.send("hello")
    wait_idle(qtbot, dock)
    first = store.messages(dock.conversation_id)[-1]
    qtbot.mouseClick(dock.regenerate_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, dock)
    messages = store.messages(dock.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"] and messages[1].created > first.created
    assert [w.message_id for w in dock.view.widgets] == [m.id for m in messages]


def test_edit_an_earlier_message_and_resend_replaces_the_later_turns(qtbot, dock, store):
    conversation_id = saved_conversation(store, ("user", "first"), ("assistant", "answer one"),
                                         ("user", "second"), ("assistant", "answer two"))
    dock.open_conversation(conversation_id)
    first = dock.view.widgets[0]
    qtbot.mouseClick(first.edit_button, Qt.MouseButton.LeftButton)
    first.editor.setPlainText("first, but about herons")
    first._save_edit()
    wait_idle(qtbot, dock)
    messages = store.messages(conversation_id)
    assert [(m.role, m.content if m.role == "user" else "") for m in messages] == [
        ("user", "first, but about herons"), ("assistant", "")]
    assert messages[1].status == "complete" and "answer one" not in [m.content for m in messages]


def test_use_as_prompt_fills_the_prompt_panel_from_a_reply_or_its_prompt_block(qtbot, dock, store, prompt_panel):
    dock.open_conversation(saved_conversation(store, ("user", "ideas?"), ("assistant", REPLY)))
    reply = last_widget(dock)
    assert "fog" in reply.text.toPlainText() and "**" not in reply.text.toPlainText()  # Markdown rendered
    (block_button,) = reply.prompt_buttons
    qtbot.mouseClick(block_button, Qt.MouseButton.LeftButton)
    assert prompt_panel.prompt.toPlainText() == "a heron standing in morning fog, ink wash"
    qtbot.mouseClick(reply.prompt_button, Qt.MouseButton.LeftButton)
    assert prompt_panel.prompt.toPlainText() == REPLY.strip()
    qtbot.mouseClick(reply.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == REPLY


TOOL_REPLY = ('On it.\n<tool_call>{"name": "set_prompt", "arguments": {"prompt": "a heron at dawn"}}</tool_call>\n'
              '<tool_call>{"name": "set_seed", "arguments": {"seed": 42}}</tool_call>\n'
              '<tool_call>{"name": "run_shell", "arguments": {"cmd": "rm -rf ~"}}</tool_call>\n'
              '<tool_call>{"name": "set_size", "arguments": {"width": 64, "height": 9999}}</tool_call>')


def test_tool_cards_approved_change_the_panel_rejected_and_malformed_change_nothing(qtbot, dock, store,
                                                                                     prompt_panel):
    model = prompt_panel.model
    model.update(prompt="untouched", seed=7)
    dock.open_conversation(saved_conversation(store, ("user", "go"), ("assistant", TOOL_REPLY)))
    reply = last_widget(dock)
    prompt_card, seed_card = reply.tool_cards  # the two bad calls are not cards
    shown = reply.text.toPlainText()
    assert "run_shell" in shown and "not run: unknown tool" in shown and "9999" in shown
    assert model.prompt == "untouched"  # nothing changes before a decision
    qtbot.mouseClick(seed_card.reject_button, Qt.MouseButton.LeftButton)
    assert model.seed == 7 and "Rejected" in seed_card.state.text()
    assert not prompt_card.approve_button.isHidden()
    qtbot.mouseClick(prompt_card.approve_button, Qt.MouseButton.LeftButton)
    assert prompt_panel.prompt.toPlainText() == "a heron at dawn" and prompt_card.approve_button.isHidden()
    dock.reload_messages()  # decisions survive a reload of the view
    assert [c.state.text() for c in last_widget(dock).tool_cards] == ["✓ Approved", "✗ Rejected"]


# Every tool the assistant may call (tool_calls.TOOL_NAMES), approved on its card as a person does, and
# what the prompt panel then shows: the effect the app really has (AssistantActions), not a copy of it.
TOOL_EFFECTS = {
    "set_prompt": ({"prompt": "a heron at dawn"}, lambda panel, queued: panel.prompt.toPlainText() == "a heron at dawn"),
    "set_negative_prompt": ({"prompt": "blur, text"}, lambda panel, queued: panel.negative.toPlainText() == "blur, text"),
    "set_size": ({"width": 128, "height": 96},
                 lambda panel, queued: (panel.width_box.value(), panel.height_box.value()) == (128, 96)),
    "set_seed": ({"seed": 4242}, lambda panel, queued: panel.seed.text() == "4242"),
    "generate_image": ({"prompt": "a lantern"},
                       lambda panel, queued: panel.prompt.toPlainText() == "a lantern"
                       and [p.prompt for p in queued] == ["a lantern"]),
}


def test_every_tool_has_an_effect_checked():
    from desktop.core.tool_calls import TOOL_NAMES

    assert set(TOOL_EFFECTS) == set(TOOL_NAMES)


@pytest.mark.parametrize("name", sorted(TOOL_EFFECTS))
def test_an_approved_tool_card_changes_the_panel_as_it_says(qtbot, dock, store, prompt_panel, controller, name):
    import json

    arguments, effect = TOOL_EFFECTS[name]
    queued = []
    controller.job_message.connect(lambda message: queued.extend(
        [controller.handles[message.job_id].job.params] if type(message).__name__ == "Started" else []))
    prompt_panel.model.seed_locked = True
    reply = f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'
    dock.open_conversation(saved_conversation(store, ("user", "go"), ("assistant", reply)))
    [card] = last_widget(dock).tool_cards
    assert not effect(prompt_panel, queued)  # nothing before the click
    qtbot.mouseClick(card.approve_button, Qt.MouseButton.LeftButton)
    if controller.handles:  # generate_image: the job the panel's Generate would run, up to its start
        qtbot.waitUntil(lambda: bool(queued), timeout=30000)
        for handle in list(controller.handles.values()):
            handle.cancel()
        qtbot.waitUntil(lambda: controller.idle, timeout=30000)
    assert effect(prompt_panel, queued), name


def test_auto_approve_applies_calls_of_a_finished_reply(dock, store, prompt_panel):
    dock.conversation_settings.auto_approve.setChecked(True)
    assert dock.settings.auto_approve_tools
    dock.open_conversation(saved_conversation(store, ("user", "go"), ("assistant", TOOL_REPLY)))
    dock._auto_approve(last_widget(dock))
    assert prompt_panel.prompt.toPlainText() == "a heron at dawn" and prompt_panel.seed.text() == "42"
    assert prompt_panel.model.seed_locked  # asked for this seed: the next press keeps it
    assert all("automatically" in c.state.text() for c in last_widget(dock).tool_cards)


def test_imagine_queues_text_to_image_with_the_current_settings(qtbot, dock, store, prompt_panel, controller):
    prompt_panel.model.update(prompt="the panel's own prompt", steps=3, seed=99, seed_locked=True, mode="inpaint")
    dock.send("/imagine a red fox, watercolor")
    (handle,) = controller.handles.values()
    params = handle.job.params
    assert (params.prompt, params.width, params.steps, params.seed) == ("a red fox, watercolor", 64, 3, 99)
    assert params.mode == "txt2img"  # /imagine always makes a new picture, whatever the panel's mode
    assert prompt_panel.prompt.toPlainText() == "the panel's own prompt"
    assert "Queued an image" in dock.notice.text() and store.list_conversations() == []  # not a chat message
    handle.cancel()
    dock.send("/imagine   ")
    assert "Say what to make" in dock.notice.text() and len(controller.handles) <= 1
    qtbot.waitUntil(lambda: controller.idle, timeout=30000)


def test_imagine_says_why_when_nothing_could_be_queued(qtbot, dock, prompt_panel, controller):
    prompt_panel.model.set_models([])
    dock.send("/imagine a lighthouse")
    assert controller.idle and "Queued" not in dock.notice.text()
    assert "Cannot make the image: choose a model first" in dock.notice.text()


def test_a_model_that_cannot_load_ends_with_a_message_not_a_hung_dock(qtbot, dock, tmp_path):
    dock.set_models([ModelEntry("gone", str(tmp_path / "gone"), "chat model")])
    dock.send("hello?")
    wait_idle(qtbot, dock)
    assert "The reply failed" in dock.notice.text() and "not a chat model folder" in dock.notice.text()
    assert dock.send_button.isEnabled() and dock.regenerate_button.isEnabled()


def test_without_a_chat_model_the_dock_says_where_to_put_one(dock, store):
    dock.set_models([], "/home/me/models")
    assert "No chat model yet" in dock.model_hint.text() and "/home/me/models" in dock.model_hint.text()
    dock.send("hello")
    assert "Choose a chat model first" in dock.notice.text() and store.list_conversations() == []


def test_conversations_new_rename_search_delete_and_export(qtbot, dock, store, tmp_path):
    herons = saved_conversation(store, ("user", "tell me about herons"), title="Birds")
    foxes = saved_conversation(store, ("user", "tell me about foxes"), title="Mammals")
    dock.refresh_list()
    assert dock.chats_toggle.text() == "Chats (2)"
    qtbot.mouseClick(dock.chats_toggle, Qt.MouseButton.LeftButton)
    assert dock.conversations.isVisible()
    dock.conversations.search.setText("heron")
    assert [dock.conversations.items.item(i).text() for i in range(dock.conversations.items.count())] == ["Birds"]
    dock.conversations.search.setText("")
    dock.conversations.items.setCurrentRow(1)
    assert dock.conversation_id == herons  # most recent first: Mammals, Birds
    dock.conversations.items.item(1).setText("Wading birds")  # what in-place editing does
    assert store.conversation(herons).title == "Wading birds"
    dock.conversation_settings.system_prompt.setPlainText("You are a bird expert.")
    dock.conversation_settings.temperature.setValue(0.3)
    dock.conversation_settings.flush()
    assert (store.conversation(herons).system_prompt, store.conversation(herons).temperature) == (
        "You are a bird expert.", 0.3)
    dock.export_markdown(str(tmp_path / "birds.md"))
    assert (tmp_path / "birds.md").read_text().startswith("# Wading birds")
    dock.delete_conversation(herons, confirm=False)
    assert [c.id for c in store.list_conversations()] == [foxes] and dock.conversation_id == foxes
    qtbot.mouseClick(dock.new_button, Qt.MouseButton.LeftButton)
    assert len(store.list_conversations()) == 2 and store.messages(dock.conversation_id) == []


def test_a_corrupt_history_file_is_set_aside_and_the_dock_says_so(qtbot, tmp_path, client):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with ChatStore(path) as fresh:
        panel = ChatPanel(fresh, client)
        qtbot.addWidget(panel)
        assert not panel.store_notice.isHidden() and "moved to" in panel.store_notice.text()


def test_old_turns_left_out_of_a_small_context_are_announced(qtbot, dock, store, tmp_path):
    from desktop.engine.tiny_models import build_chat_lm

    small = build_chat_lm(tmp_path / "small", max_positions=160)
    dock.set_models([ModelEntry("small", str(small), "chat model")])
    turns = []
    for index in range(10):
        turns += [("user", f"question {index} about the fox"), ("assistant", f"answer {index}: a fox in snow")]
    dock.open_conversation(saved_conversation(store, *turns))
    dock.conversation_settings.use_tools.setChecked(False)
    dock.send("and the last one?")
    wait_idle(qtbot, dock)
    assert "oldest messages are left out" in dock.notice.text()
    assert len(store.messages(dock.conversation_id)) == 22  # the history itself is never cut


def test_enhance_shows_a_diff_reject_keeps_accept_records_the_original(qtbot, dock, client, prompt_panel):
    model = prompt_panel.model
    enhancer = PromptEnhancer(model, prompt_panel, client, dock.selected_model)
    model.update(prompt="a fox in snow", seed=11, seed_locked=True)
    with qtbot.waitSignal(enhancer.dialog_shown, timeout=60000) as first:
        qtbot.mouseClick(prompt_panel.enhance_button, Qt.MouseButton.LeftButton)
    dialog = first.args[0]
    assert dialog.diff.toPlainText().strip() and "SD 1.x" in dialog.summary.text()
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    assert model.prompt == "a fox in snow" and model.original_prompt == ""
    qtbot.waitUntil(lambda: enhancer.job_id is None, timeout=5000)
    with qtbot.waitSignal(enhancer.dialog_shown, timeout=60000) as second:
        qtbot.mouseClick(prompt_panel.enhance_button, Qt.MouseButton.LeftButton)
    again = second.args[0]
    assert again.result.enhanced == dialog.result.enhanced  # same seed, same rewrite
    qtbot.mouseClick(again.accept_button, Qt.MouseButton.LeftButton)
    assert prompt_panel.prompt.toPlainText() == again.result.enhanced
    assert model.to_params().original_prompt == "a fox in snow"
    prompt_panel.prompt.selectAll()
    qtbot.keyClicks(prompt_panel.prompt, "something else entirely, a lighthouse")  # a new prompt: no rewrite to record
    assert model.to_params().original_prompt == ""


def test_enhance_without_a_chat_model_says_what_to_do(qtbot, dock, client, prompt_panel):
    PromptEnhancer(prompt_panel.model, prompt_panel, client, lambda: None)
    prompt_panel.model.prompt = "a fox"
    qtbot.mouseClick(prompt_panel.enhance_button, Qt.MouseButton.LeftButton)
    assert "Enhance needs a chat model" in prompt_panel.notice_text()


# ------------------------------------------------------------------ the whole app
@pytest.fixture
def app_with_chat(start_atelier, tiny_sd15, tiny_chat):
    return start_atelier({"tiny-sd15": tiny_sd15, "tiny-chat": tiny_chat}, steps=2, seed=5)

def test_in_the_app_chat_enhance_and_imagine_share_the_lane_and_the_image_records_both_prompts(
        qtbot, app_with_chat):
    import json

    from PIL import Image

    atelier = app_with_chat
    window, dock, panel = atelier.window, atelier.chat.panel, atelier.window.prompt_panel
    assert window.dockWidgetArea(atelier.chat.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert dock.selected_model().name == "tiny-chat" and atelier.prompt.selected_model.name == "tiny-sd15"
    dock.conversation_settings.max_new_tokens.setValue(12)
    dock.send("hello there")
    qtbot.waitUntil(lambda: not dock.busy, timeout=60000)
    assert last_widget(dock).status == "complete" and last_widget(dock).content

    atelier.prompt.prompt = "a fox in snow"
    with qtbot.waitSignal(atelier.chat.enhancer.dialog_shown, timeout=60000) as shown:
        qtbot.mouseClick(panel.enhance_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(shown.args[0].accept_button, Qt.MouseButton.LeftButton)
    enhanced = panel.prompt.toPlainText()
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as made:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    record = json.loads(Image.open(made.args[0].path).text["atelier"])
    assert (record["params"]["prompt"], record["params"]["original_prompt"]) == (enhanced, "a fox in snow")

    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as imagined:
        dock.send("/imagine a heron in fog")
    assert imagined.args[0].params.prompt == "a heron in fog" and imagined.args[0].params.original_prompt == ""


def test_esc_and_clear_queue_touch_only_the_prompt_panel_s_jobs_never_a_chat_reply(qtbot, app_with_chat):
    atelier = app_with_chat
    dock, panel, controller = atelier.chat.panel, atelier.window.prompt_panel, atelier.controller
    qtbot.waitUntil(lambda: controller.idle, timeout=60000)  # the image model's preload
    dock.conversation_settings.max_new_tokens.setValue(300)
    dock.conversation_settings.use_tools.setChecked(False)
    dock.send("Tell me a very long story")
    qtbot.waitUntil(lambda: last_widget(dock).message.role == "assistant" and bool(last_widget(dock).content),
                    timeout=60000)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)  # waits behind the reply on the one lane
    assert panel.queue_label.text() == "1 waiting in queue" and panel.progress.format().startswith("Waiting")
    assert dock.busy
    qtbot.keyClick(atelier.window, Qt.Key.Key_Escape)  # the panel runs nothing: the reply is not its to stop
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.idle, timeout=10000)
    assert controller.results == []
    qtbot.waitUntil(lambda: not dock.busy, timeout=60000)
    reply = atelier.chat_store.messages(dock.conversation_id)[-1]
    assert reply.status == "complete" and last_widget(dock).status == "complete"
