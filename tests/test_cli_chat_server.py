"""`main.py chat --server URL --model NAME`: a server's reply streamed to stdout and saved like a local one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from chat_servers import TINY_REPO, free_port

from desktop.cli import dispatch
from desktop.core.chat_store import ChatStore
from desktop.core.paths import AppPaths

ROOT = Path(__file__).resolve().parents[1]


def _chat(capsys, *args: str) -> tuple[int, str, str]:
    code = dispatch(["chat", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _store() -> ChatStore:
    return ChatStore(AppPaths.default().data_dir / "chat.sqlite3")


def test_a_real_server_reply_is_streamed_and_saved(atelier_home, transformers_server, capsys):
    code, out, err = _chat(capsys, "--server", transformers_server.url, "--model", TINY_REPO,
                           "--max-new-tokens", "8", "--temperature", "0", "hello server")
    assert code == 0, err
    with _store() as store:
        user, reply = store.messages(1)
        assert store.conversation(1).model == TINY_REPO and user.content == "hello server"
        assert reply.status == "complete" and out == reply.content + "\n"


def test_api_key_from_the_environment_and_nowhere_else(atelier_home, scripted_server, monkeypatch, capsys):
    fake = scripted_server(key="sk-cli-5e6f")
    monkeypatch.setenv("MY_SERVER_KEY", "sk-cli-5e6f")
    code, out, err = _chat(capsys, "--server", fake.url, "--api-key-env", "MY_SERVER_KEY", "--model", "scripted", "hi")
    assert code == 0, err
    assert out == "Hello from the server.\n"
    assert fake.headers[-1]["Authorization"] == "Bearer sk-cli-5e6f"
    assert "sk-cli" not in out + err
    for file in Path(atelier_home).rglob("*"):  # not in settings, not in the history
        if file.is_file():
            assert b"sk-cli-5e6f" not in file.read_bytes(), file


@pytest.mark.parametrize("setup, args, code, message", [
    ("", ["--server", "gopher://x", "--model", "m"], 2, "http:// or https://"),
    ("", ["--server", "{url}", "--api-key-env", "NOT_SET_ANYWHERE", "--model", "scripted"], 2, "is not set"),
    ("", ["--api-key-env", "X", "--model", "scripted"], 2, "goes with --server"),
    ("key", ["--server", "{url}", "--model", "scripted"], 2, "needs an API key"),
    ("", ["--server", "{url}", "--model", "llama9"], 2, "It has: scripted, other"),
    ("", ["--server", "http://127.0.0.1:{free}", "--model", "scripted"], 1, "Cannot reach the chat server"),
])
def test_failures_are_one_line_with_the_right_exit_code(atelier_home, scripted_server, capsys, setup, args, code,
                                                         message):
    fake = scripted_server(key="sk-x" if setup == "key" else "")
    args = [a.format(url=fake.url, free=free_port()) for a in args]
    got, _out, err = _chat(capsys, *args, "hi")
    assert got == code and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_server_chat_never_imports_torch(atelier_home, scripted_server):
    fake = scripted_server()
    script = ("import sys; from desktop.cli import dispatch; "
              f"code = dispatch(['chat', '--server', {fake.url!r}, '--model', 'scripted', 'hi']); "
              "print('torch loaded' if 'torch' in sys.modules else 'no torch', code)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().endswith("no torch 0"), done.stdout + done.stderr
