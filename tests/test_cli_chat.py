"""`main.py chat`: streams a reply to stdout, saves both messages, continues conversations, fails clearly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop.cli import dispatch
from desktop.core.chat_store import ChatStore
from desktop.core.paths import AppPaths

ROOT = Path(__file__).resolve().parents[1]


def _store() -> ChatStore:
    return ChatStore(AppPaths.default().data_dir / "chat.sqlite3")


def _chat(capsys, *args: str) -> tuple[int, str, str]:
    code = dispatch(["chat", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_chat_streams_the_reply_and_saves_both_messages(atelier_home, tiny_chat, capsys):
    code, out, err = _chat(capsys, "--model", str(tiny_chat), "--seed", "4", "--max-new-tokens", "16",
                           "--system", "You are a painter.", "a fox in snow")
    assert code == 0, err
    assert "conversation 1" in err and "--conversation 1" in err
    with _store() as store:
        conversation = store.conversation(1)
        assert conversation.title == "a fox in snow" and conversation.system_prompt == "You are a painter."
        assert conversation.model == tiny_chat.name and conversation.max_new_tokens == 16
        user, reply = store.messages(1)
        assert (user.role, user.content) == ("user", "a fox in snow")
        assert (reply.role, reply.status) == ("assistant", "complete")
        assert out == reply.content + "\n" and reply.content


def test_continue_a_conversation_with_new_settings(atelier_home, tiny_chat, capsys):
    assert _chat(capsys, "--model", str(tiny_chat), "--max-new-tokens", "8", "first")[0] == 0
    code, _out, err = _chat(capsys, "--model", str(tiny_chat), "--conversation", "1", "--system", "Be terse.",
                            "--temperature", "0", "second")
    assert code == 0, err
    with _store() as store:
        assert [m.content for m in store.messages(1)][::2] == ["first", "second"]
        assert len(store.messages(1)) == 4
        conversation = store.conversation(1)
        assert (conversation.system_prompt, conversation.temperature, conversation.max_new_tokens) == (
            "Be terse.", 0.0, 8)
        assert len(store.list_conversations()) == 1


def test_same_seed_same_reply_and_greedy_is_repeatable(atelier_home, tiny_chat, capsys):
    runs = [_chat(capsys, "--model", str(tiny_chat), "--temperature", "0.9", "--seed", "11",
                  "--max-new-tokens", "12", "hello")[1] for _ in range(2)]
    assert runs[0] == runs[1]


def test_model_by_name_from_the_models_folder(atelier_home, tiny_chat, capsys):
    models = AppPaths.default().ensure().models_dir
    shutil.copytree(tiny_chat, models / "Tiny-Qwen")
    code, out, err = _chat(capsys, "--model", "tiny-qwen", "--max-new-tokens", "4", "hi")
    assert code == 0, err
    with _store() as store:
        assert store.conversation(1).model == "Tiny-Qwen"


@pytest.mark.parametrize("setup, model, expected", [
    (None, "/no/such/folder", "there is no folder /no/such/folder"),
    (None, "nameless", "no model named 'nameless'"),
    ("empty", "{tmp}/empty", "is not a model folder"),
    ("image", "picture-model", "is an image model"),
    ("no-weights", "{tmp}/no-weights", "has no weights"),
])
def test_bad_model_exits_non_zero_with_one_clear_line(atelier_home, tmp_path, tiny_chat, capsys, setup, model,
                                                      expected):
    models = AppPaths.default().ensure().models_dir
    if setup == "empty":
        (tmp_path / "empty").mkdir()
    elif setup == "image":
        (models / "picture-model").mkdir()
        (models / "picture-model" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    elif setup == "no-weights":
        (tmp_path / "no-weights").mkdir()
        shutil.copy(tiny_chat / "config.json", tmp_path / "no-weights")
    code, out, err = _chat(capsys, "--model", model.format(tmp=tmp_path), "hello")
    assert code == 2 and out == ""  # bad input: 2, as generate and argparse say it
    assert expected in err and err.count("\n") == 1 and err.startswith("atelier chat: ")
    with _store() as store:
        assert store.list_conversations() == []  # nothing saved for a model that could not be used


def test_empty_message_and_unknown_conversation_are_refused(atelier_home, tiny_chat, capsys):
    code, _out, err = _chat(capsys, "--model", str(tiny_chat), "   ")
    assert code == 2 and "message is empty" in err
    code, _out, err = _chat(capsys, "--model", str(tiny_chat), "--conversation", "42", "hi")
    assert code == 2 and "no conversation 42" in err
    code, _out, err = _chat(capsys, "--model", str(tiny_chat), "--top-p", "3", "hi")
    assert code == 2 and "top-p" in err


def test_a_message_too_long_for_the_context_is_explained(atelier_home, tmp_path, capsys):
    from desktop.engine.tiny_models import build_chat_lm

    small = build_chat_lm(tmp_path / "small-context", max_positions=64)
    code, _out, err = _chat(capsys, "--model", str(small), "--max-new-tokens", "16", "word " * 80)
    assert code == 2 and "shorten the message" in err
    with _store() as store:
        assert store.list_conversations() == []


def test_killed_mid_reply_keeps_every_saved_message(atelier_home, tiny_chat, capsys):
    """SIGKILL while the reply streams: earlier turns, the new message and the reply up to its last batch stay."""
    assert _chat(capsys, "--model", str(tiny_chat), "--max-new-tokens", "6", "an earlier turn")[0] == 0
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "chat", "--model", str(tiny_chat), "--conversation", "1",
         "--temperature", "0", "--max-new-tokens", "1900", "keep talking"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    printed = bytearray()

    def read() -> None:
        while chunk := process.stdout.read1(4096):
            printed.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while len(printed) < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, f"the chat ended before it could be killed: {process.stderr.read().decode()}"
    time.sleep(0.8)  # past a few save intervals (0.25 s)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    reader.join(10)
    assert process.returncode == -signal.SIGKILL

    import sqlite3

    raw = sqlite3.connect(AppPaths.default().data_dir / "chat.sqlite3")
    rows = raw.execute("SELECT role, content, status FROM messages WHERE conversation_id = 1 ORDER BY position").fetchall()
    raw.close()
    assert [(role, status) for role, _content, status in rows] == [
        ("user", "complete"), ("assistant", "complete"), ("user", "complete"), ("assistant", "streaming")]
    assert rows[2][1] == "keep talking"
    partial = rows[3][1]
    assert partial and printed.decode("utf-8", "replace").startswith(partial)  # saved: a prefix of what was shown
    with _store() as store:
        assert store.messages(1)[-1].status == "stopped"  # after a restart it reads as stopped
