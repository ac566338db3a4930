"""Talk to an OpenAI-compatible chat server (Ollama, LM Studio, llama.cpp, vLLM, Jan, `transformers serve`).

Plain `http.client`, so every limit is ours to set: a connect timeout, a read timeout that turns a
hung server into a clear error, caps on the size of anything the server sends, and Stop that shuts
the socket from a watcher thread so a read blocked on a silent server returns at once. Replies come
as server-sent events (`data: {json}` lines, then `data: [DONE]`). Errors are ServerError with one
sentence a person can act on; the API key goes only into the Authorization header, never into a
message, a repr or a log. Nothing is sent anywhere unless the user chose this server.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlsplit

from desktop import __version__
from desktop.core.server_address import check_token, check_url

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0  # a big model's first token on a slow machine can take a minute; then it is hung
MAX_EVENT_BYTES = 1 << 20  # one SSE line; a token is a few bytes
MAX_REPLY_BYTES = 32 << 20  # a whole streamed reply
MAX_JSON_BYTES = 8 << 20  # /v1/models and error bodies
STOP_POLL_S = 0.05


class ServerError(RuntimeError):
    """What went wrong with the server, said plainly; `kind` lets callers choose an exit code or a retry."""

    def __init__(self, message: str, kind: str = "server", status: int = 0) -> None:
        super().__init__(message)
        self.kind = kind  # unreachable, auth, model, refused, timeout, dropped, protocol, too-large, server
        self.status = status


@dataclass(frozen=True)
class ServerModel:
    """One model a server offers; context_length when the server says (vLLM, LM Studio, llama.cpp)."""

    id: str
    context_length: int = 0


def check_server_url(text: str) -> str:
    """The base URL to use (…/v1), or ValueError saying what is wrong with what was typed.

    The rules are the remote image engine's (desktop.core.server_address: http(s), a host, no user name,
    password, query or fragment, no spaces); a chat server's address may also be typed the way Ollama's
    and LM Studio's documentation write it (`localhost:11434`), and gets the /v1 every one of them serves.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("type the server's address, e.g. http://localhost:11434 (Ollama) or "
                         "http://localhost:1234/v1 (LM Studio)")
    if "://" not in text and not any(ch.isspace() for ch in text):
        text = "http://" + text
    url = check_url(text)  # AddressError is a ValueError
    return url if urlsplit(url).path else url + "/v1"


def check_api_key(key: str) -> str:
    """The key as it will be sent; ValueError for characters that cannot go into an HTTP header."""
    return check_token(key)


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit] + ("…" if len(line) > limit else "")


def error_message(body: bytes) -> str:
    """The message inside an OpenAI-style error body ({"error": {"message": …}}, {"detail": …}, text)."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return _first_line(body.decode("utf-8", errors="replace"))
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message", "")))
        if isinstance(error, dict):
            error = error.get("message", "") or json.dumps(error)[:200]
        if isinstance(error, list):  # FastAPI validation errors
            error = "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in error)
        return _first_line(str(error))
    return _first_line(str(data))


class ChatServer:
    """One server the user chose: its address and key, and the two requests Atelier makes of it."""

    def __init__(self, url: str, api_key: str = "", *, read_timeout_s: float = READ_TIMEOUT_S,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.url = check_server_url(url)
        self._key = check_api_key(api_key)
        self.read_timeout_s = read_timeout_s
        self.connect_timeout_s = connect_timeout_s
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = parts.path

    def __repr__(self) -> str:  # the key never appears in a repr, a log line or a traceback's locals display
        return f"ChatServer({self.url!r}, key={'set' if self._key else 'none'})"

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    # ------------------------------------------------------------------ requests
    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        extra = {"context": ssl.create_default_context()} if self._https else {}
        connection = kind(self._host, self._port, timeout=self.connect_timeout_s, **extra)
        try:
            connection.connect()
        except socket.timeout:
            raise ServerError(f"The chat server at {self.url} did not answer within {self.connect_timeout_s:.0f} s: "
                              "is the address right and the server running?", "unreachable") from None
        except ssl.SSLError as error:
            raise ServerError(f"A secure connection to {self.url} failed ({error.reason or error}): check the "
                              "address (http:// or https://) and the server's certificate", "unreachable") from None
        except OSError as error:
            reason = error.strerror or str(error) or type(error).__name__
            raise ServerError(f"Cannot reach the chat server at {self.url}: {reason.lower()}. Is it running, "
                              "and is the address right?", "unreachable") from None
        connection.sock.settimeout(self.read_timeout_s)
        return connection

    def _headers(self, streaming: bool) -> dict:
        headers = {"User-Agent": f"Atelier/{__version__}", "Accept": "text/event-stream" if streaming else
                   "application/json", "Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _refusal(self, response: http.client.HTTPResponse, what: str, model: str = "") -> ServerError:
        status = response.status
        message = error_message(response.read(64 * 1024))
        said = f": {message}" if message else ""
        if status in (401, 403):
            advice = ("check the API key in Settings > Chat engine" if self._key else
                      "it needs an API key: add one in Settings > Chat engine")
            return ServerError(f"The chat server at {self.url} refused the request ({status} "
                               f"{'Unauthorized' if status == 401 else 'Forbidden'}): {advice}", "auth", status)
        if status == 404 and model and ("model" in message.lower() or not message):
            return ServerError(f"The chat server has no model named {model!r}{said}", "model", status)
        if status == 404:
            return ServerError(f"{self.url} has no {what} endpoint (404){said}: is this the OpenAI-compatible "
                               "address? (Ollama: http://localhost:11434/v1, LM Studio: http://localhost:1234/v1)",
                               "protocol", status)
        if status in (400, 413, 422):
            kind = "model" if model and "model" in message.lower() and "not" in message.lower() else "refused"
            return ServerError(f"The chat server refused the request ({status}){said}", kind, status)
        return ServerError(f"The chat server failed ({status} {response.reason}){said}", "server", status)

    def models(self, should_stop: Callable[[], bool] = lambda: False) -> list[ServerModel]:
        """GET /v1/models: the models the server offers (should_stop() ends a wait on a silent server)."""
        connection = self._connect()
        finished = threading.Event()
        threading.Thread(target=self._watch, args=(connection.sock, should_stop, finished),
                         name="chat-server-stop", daemon=True).start()
        try:
            connection.request("GET", f"{self._path}/models", headers=self._headers(False))
            response = self._response(connection)
            if response.status != 200:
                raise self._refusal(response, "/models")
            body = response.read(MAX_JSON_BYTES + 1)
        except socket.timeout:
            raise ServerError(f"The chat server at {self.url} sent nothing for {self.read_timeout_s:.0f} s when "
                              "asked for its models: it seems to hang", "timeout") from None
        except (OSError, http.client.HTTPException) as error:
            raise ServerError(f"The connection to {self.url} broke while listing models "
                              f"({type(error).__name__})", "dropped") from None
        finally:
            finished.set()
            connection.close()
        if len(body) > MAX_JSON_BYTES:
            raise ServerError(f"The chat server sent more than {MAX_JSON_BYTES >> 20} MB for its model list",
                              "too-large")
        try:
            data = json.loads(body.decode("utf-8"))
            rows = data["data"] if isinstance(data, dict) else data
            if not isinstance(rows, list):
                raise TypeError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ServerError(f"{self.url}/models did not answer with an OpenAI-style model list: "
                              f"{_first_line(body.decode('utf-8', 'replace'), 80)!r}", "protocol") from None
        found = []
        for row in rows:
            if isinstance(row, dict) and isinstance(row.get("id"), str) and row["id"]:
                context = next((row[k] for k in ("context_length", "max_model_len", "max_context_length",
                                                 "context_window") if isinstance(row.get(k), int)), 0)
                meta = row.get("meta")
                if not context and isinstance(meta, dict) and isinstance(meta.get("n_ctx_train"), int):
                    context = meta["n_ctx_train"]
                found.append(ServerModel(row["id"], int(context)))
        return found

    def _response(self, connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
        try:
            return connection.getresponse()
        except socket.timeout:
            raise
        except (ConnectionError, http.client.RemoteDisconnected) as error:
            raise ServerError(f"The chat server at {self.url} closed the connection without answering "
                              f"({type(error).__name__})", "dropped") from None

    def stream_chat(self, body: dict, should_stop: Callable[[], bool] = lambda: False) -> Iterator[dict]:
        """POST /v1/chat/completions with stream=true; yield each event's JSON object.

        Ends quietly after `data: [DONE]` (or the end of a stream whose last event had a finish_reason),
        or as soon as should_stop() turns true (the socket is shut from a watcher thread). Raises
        ServerError for a refusal, a timeout, a dropped connection, non-JSON events or an oversized reply.
        """
        payload = json.dumps({**body, "stream": True}).encode("utf-8")
        model = str(body.get("model", ""))
        connection = self._connect()
        finished = threading.Event()
        # the socket itself: http.client drops connection.sock once a "Connection: close" answer starts
        watcher = threading.Thread(target=self._watch, args=(connection.sock, should_stop, finished),
                                   name="chat-server-stop", daemon=True)
        watcher.start()
        received = 0
        ended = False
        try:
            try:
                connection.request("POST", f"{self._path}/chat/completions", body=payload,
                                   headers=self._headers(True))
                response = self._response(connection)
            except socket.timeout:
                raise ServerError(f"The chat server at {self.url} sent nothing for {self.read_timeout_s:.0f} s: "
                                  "it seems to hang (a model still loading can take long; try again, or restart "
                                  "the server)", "timeout") from None
            if response.status != 200:
                raise self._refusal(response, "/chat/completions", model)
            content_type = response.getheader("Content-Type", "")
            if "json" in content_type and "event-stream" not in content_type:
                # a server that ignores "stream": one JSON answer instead of events
                data = response.read(MAX_JSON_BYTES + 1)
                yield self._parse_event(data)
                return
            while True:
                try:
                    line = response.readline(MAX_EVENT_BYTES + 1)
                except socket.timeout:
                    if should_stop():
                        return
                    raise ServerError(f"The chat server sent nothing for {self.read_timeout_s:.0f} s in the middle "
                                      "of the reply: it seems to hang; what came so far is kept", "timeout") from None
                except (OSError, http.client.HTTPException, ValueError) as error:
                    if should_stop():
                        return
                    raise ServerError(f"The connection to the chat server broke mid-reply ({type(error).__name__}); "
                                      "what came so far is kept", "dropped") from None
                if should_stop():
                    return
                if not line:
                    if ended:
                        return
                    raise ServerError("The chat server closed the connection mid-reply (did it stop or crash?); "
                                      "what came so far is kept", "dropped")
                received += len(line)
                if len(line) > MAX_EVENT_BYTES or received > MAX_REPLY_BYTES:
                    raise ServerError(f"The chat server sent more than "
                                      f"{(MAX_EVENT_BYTES if len(line) > MAX_EVENT_BYTES else MAX_REPLY_BYTES) >> 20} MB "
                                      "without an end: the reply was stopped there", "too-large")
                text = line.decode("utf-8", errors="replace").strip()
                if not text or text.startswith(":"):  # keep-alive comments and event separators
                    continue
                field, _, value = text.partition(":")
                if field == "event" and value.strip() == "error":
                    continue  # the data line after it carries the error
                if field != "data":
                    continue
                value = value.strip()
                if value == "[DONE]":
                    return
                event = self._parse_event(value.encode("utf-8"))
                if isinstance(event.get("error"), (dict, str)):
                    raise ServerError(f"The chat server reported an error mid-reply: "
                                      f"{error_message(json.dumps(event).encode())}", "server")
                choices = event.get("choices") or []
                if any(isinstance(c, dict) and c.get("finish_reason") for c in choices):
                    ended = True
                yield event
        finally:
            finished.set()
            connection.close()

    def _parse_event(self, data: bytes) -> dict:
        if len(data) > MAX_JSON_BYTES:
            raise ServerError(f"The chat server sent a single answer of more than {MAX_JSON_BYTES >> 20} MB",
                              "too-large")
        try:
            event = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ServerError(f"The chat server sent something that is not OpenAI-compatible JSON: "
                              f"{_first_line(data.decode('utf-8', 'replace'), 80)!r}", "protocol") from None
        if not isinstance(event, dict):
            raise ServerError("The chat server sent JSON that is not a chat completion", "protocol")
        return event

    @staticmethod
    def _watch(sock: socket.socket, should_stop: Callable[[], bool], finished: threading.Event) -> None:
        """Stop: shut the socket so that a read blocked on a silent server returns now, not at the timeout."""
        while not finished.wait(STOP_POLL_S):
            if should_stop():
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return


def wait_until_up(url: str, timeout_s: float = 30.0) -> bool:
    """For scripts and tests: True once GET /v1/models answers at all."""
    deadline = time.monotonic() + timeout_s
    server = ChatServer(url, connect_timeout_s=2.0, read_timeout_s=5.0)
    while time.monotonic() < deadline:
        try:
            server.models()
            return True
        except ServerError as error:
            if error.kind not in ("unreachable", "dropped"):
                return True
        time.sleep(0.2)
    return False
