"""Chat servers for tests, on 127.0.0.1: a real `transformers serve`, and a scripted one for what it cannot do.

`transformers serve` (the `transformers[serving]` extra) is a real OpenAI-compatible server: it lists
the models in its Hugging Face cache at /v1/models and streams /v1/chat/completions as SSE. It does
not check API keys and a random-weight model never makes tool calls, so `ScriptedServer` (a small
http.server written here) covers keys (401), tool-call deltas, garbage JSON, a hang and an endless line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TINY_REPO = "atelier/tiny-chat"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hub_cache_with(root: Path, repos: dict[str, Path]) -> Path:
    """A Hugging Face cache (models--org--name/snapshots/<rev>, refs/main) whose files link to `repos`."""
    for repo, folder in repos.items():
        base = root / ("models--" + repo.replace("/", "--"))
        snapshot = base / "snapshots" / ("0" * 40)
        snapshot.mkdir(parents=True, exist_ok=True)
        for file in folder.iterdir():
            if file.is_file() and not (snapshot / file.name).exists():
                (snapshot / file.name).symlink_to(file)
        (base / "refs").mkdir(exist_ok=True)
        (base / "refs" / "main").write_text("0" * 40)
    return root


class TransformersServer:
    """`transformers serve` in a child process; stop() and kill() end that process by its id."""

    def __init__(self, hub_cache: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = shutil.which("transformers", path=str(Path(sys.executable).parent))
        env = {**os.environ, "HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "OMP_NUM_THREADS": "1"}
        self.log = log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen([command, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--log-level", "warning"], env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT)

    def wait_up(self, timeout_s: float = 90.0) -> "TransformersServer":
        from desktop.core.chat_server import wait_until_up

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {self.log.read_text(errors='replace')[-2000:]}")
            if wait_until_up(self.url, 1.0):
                return self
        raise RuntimeError(f"transformers serve did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def kill(self) -> None:
        """As if it crashed: SIGKILL, mid-whatever it was doing."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()


@pytest.fixture(scope="session")
def served_hub(tiny_chat, tmp_path_factory) -> Path:
    return hub_cache_with(tmp_path_factory.mktemp("served-hub"), {TINY_REPO: tiny_chat})


@pytest.fixture(scope="session")
def transformers_server(served_hub, tmp_path_factory):
    """A real OpenAI-compatible server for the whole session, serving the tiny chat model."""
    pytest.importorskip("fastapi", reason="needs transformers[serving] (the test extra)")
    server = TransformersServer(served_hub, tmp_path_factory.mktemp("serve-log") / "serve.log").wait_up()
    yield server
    server.stop()


# ------------------------------------------------------------------ the scripted server
def sse(event) -> bytes:
    return b"data: " + (event if isinstance(event, bytes) else json.dumps(event).encode()) + b"\n\n"


def chunk(content: str = "", finish: str | None = None, tool_calls=None) -> dict:
    delta: dict = {}
    if content:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {"id": "x", "object": "chat.completion.chunk", "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class ScriptedServer:
    """An OpenAI-shaped server whose answers the test sets: `mode` and `key`; `requests` records bodies."""

    def __init__(self, key: str = "", mode: str = "text") -> None:
        self.key, self.mode = key, mode
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.release = threading.Event()  # a hanging answer waits for this (set at close)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _authorised(self) -> bool:
                outer.headers.append(dict(self.headers))
                if outer.key and self.headers.get("Authorization") != f"Bearer {outer.key}":
                    self._json(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error"}})
                    return False
                return True

            def _json(self, status: int, data) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if not self._authorised():
                    return
                if self.path != "/v1/models":
                    self._json(404, {"detail": "Not Found"})
                    return
                if outer.mode == "garbage":
                    self._json(200, "<html>not a model list</html>")
                    return
                if outer.mode == "hang":
                    outer.release.wait(60)
                    return
                self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model",
                                                             "max_model_len": 4096}, {"id": "other"}]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append(body)
                if not self._authorised():
                    return
                if self.path != "/v1/chat/completions":
                    self._json(404, {"detail": "Not Found"})
                    return
                if body.get("model") not in ("scripted", "other"):
                    self._json(404, {"error": {"message": f"model '{body.get('model')}' not found"}})
                    return
                if outer.mode == "hang":
                    outer.release.wait(60)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for part in outer.script():
                    if part is None:  # hang mid-reply
                        self.wfile.flush()
                        outer.release.wait(60)
                        return
                    self.wfile.write(part)
                    self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def script(self):
        if self.mode == "text":
            yield sse(chunk("Hello"))
            yield sse(chunk(" from the"))
            yield sse(chunk(" server.", "stop"))
            yield sse({"id": "x", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}})
            yield sse(b"[DONE]")
        elif self.mode == "tools":
            yield sse(chunk("Setting it up."))
            yield sse(chunk(tool_calls=[{"index": 0, "id": "c1", "type": "function",
                                         "function": {"name": "set_seed", "arguments": ""}}]))
            yield sse(chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"se'}}]))
            yield sse(chunk(tool_calls=[{"index": 0, "function": {"arguments": 'ed": 42}'}}]))
            yield sse(chunk(tool_calls=[{"index": 1, "id": "c2", "type": "function",
                                         "function": {"name": "set_size", "arguments": '{"width": 640, "height": 512}'}}]))
            yield sse(chunk(finish="tool_calls"))
            yield sse(b"[DONE]")
        elif self.mode == "garbage":
            yield sse(chunk("Fine so far"))
            yield b"data: {this is not json\n\n"
        elif self.mode == "stall":
            yield sse(chunk("A partial"))
            yield sse(chunk(" reply"))
            yield None
        elif self.mode == "endless":
            yield b"data: " + b"x" * (2 << 20)
        elif self.mode == "drop":
            yield sse(chunk("Cut"))
            yield sse(chunk(" short"))

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server():
    servers: list[ScriptedServer] = []

    def start(key: str = "", mode: str = "text") -> ScriptedServer:
        servers.append(ScriptedServer(key, mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
