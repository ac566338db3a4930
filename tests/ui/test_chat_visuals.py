"""What the chat dock shows: no control tokens ever, and a dock that keeps its width while replies stream."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.ui.test_chat_dock import chat_entry, dock, last_widget, prompt_panel, saved_conversation, store, client, controller  # noqa: F401

LONG_NAME = "Qwen2.5-Coder-1.5B-Instruct-abliterated-uncensored-merged-v2-final-q8"


def test_control_tokens_are_never_shown_copied_or_used_as_a_prompt(qtbot, dock, store, prompt_panel):  # noqa: F811
    conversation = saved_conversation(store, ("user", "ideas?"),
                                      ("assistant", "A heron<|im_end|>\n<|im_start|>assistant\nin morning fog</s>"))
    dock.open_conversation(conversation)
    widget = last_widget(dock)
    assert widget.text.toPlainText().split() == ["A", "heron", "in", "morning", "fog"]
    qtbot.mouseClick(widget.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "A heron\nin morning fog"
    qtbot.mouseClick(widget.prompt_button, Qt.MouseButton.LeftButton)
    assert prompt_panel.prompt.toPlainText() == "A heron\nin morning fog"


def test_the_chat_dock_keeps_its_width_while_a_reply_streams(qtbot, start_atelier, tiny_sd15, tiny_chat):
    app = start_atelier({"tiny-sd15": tiny_sd15, LONG_NAME: tiny_chat})
    panel, dock, canvas = app.chat.panel, app.chat.dock, app.window.canvas
    qtbot.waitUntil(lambda: dock.isVisible() and panel.selected_model() is not None)
    width, canvas_width = dock.width(), canvas.width()
    assert width <= 360, "a long model name widened the chat dock"
    panel.conversation_settings.max_new_tokens.setValue(48)
    panel.conversation_settings.temperature.setValue(1.0)
    widths = set()
    qtbot.keyClicks(panel.input, "A path for you: /home/someone/Pictures/" + "x" * 120 + ".png, thoughts?")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    panel.show_notice("Waiting for the model lane: /a/very/long/folder/name/without/any/spaces/" + "y" * 90)

    def done() -> bool:
        widths.add(dock.width())
        return not panel.busy

    qtbot.waitUntil(done, timeout=60000)
    widths.add(dock.width())
    assert widths == {width} and canvas.width() == canvas_width
    reply = last_widget(panel)
    assert reply.message.role == "assistant" and reply.width() <= panel.view.viewport().width()


def test_a_reply_shown_finished_keeps_its_text_when_late_tokens_arrive(dock, store):  # noqa: F811
    """On a busy machine the lane can end a reply before the window shows its start: the dock then shows the
    saved reply whole, and the tokens still queued for it must not cut it back to their piece."""
    conversation = saved_conversation(store, ("user", "ideas?"), ("assistant", "A heron in morning fog"))
    dock.open_conversation(conversation)
    widget = last_widget(dock)
    widget.append_stream("A her", 0)
    assert widget.content == "A heron in morning fog" and widget.text.toPlainText() == "A heron in morning fog"
