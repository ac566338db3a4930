"""A chat model on an OpenAI-compatible server, with the local ChatEngine's shape.

`stream_reply` (desktop.engine.chat_reply), the chat lane's handler and `main.py chat` drive a
ChatEngine: context_length, count_tokens, stream(...) -> iterable with finish_reason. This class
answers the same calls over HTTP, so a server's reply is fitted, streamed, saved, stopped and ended
exactly as a local one is. No torch here: a server-only session never imports it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Iterator

from desktop.core.chat_server import ChatServer, ServerError, ServerModel
from desktop.core.server_reply import ServerReply, chat_request

DEFAULT_CONTEXT = 32768  # when the server does not say: long enough not to drop turns it would accept
CHARS_PER_TOKEN = 3  # a cautious guess (English is ~4): the server has the tokenizer, Atelier does not


class ServerReplyStream:
    """Iterate for text pieces; afterwards finish_reason is "stop", "length" or "cancelled"."""

    def __init__(self, engine: "ServerChatEngine", body: dict, cancel: threading.Event | None,
                 prompt_tokens: int) -> None:
        self.finish_reason = ""
        self.prompt_tokens = prompt_tokens
        self.first_piece_s: float | None = None
        self.seconds = 0.0
        self.pieces = 0
        self.reply = ServerReply()
        self._engine, self._body, self._cancel = engine, body, cancel
        self._closed = threading.Event()
        self._iterator = self._run()

    @property
    def tokens(self) -> int:
        return self.reply.completion_tokens or self.pieces

    def __iter__(self) -> Iterator[str]:
        return self._iterator

    def __next__(self) -> str:
        return next(self._iterator)

    def close(self) -> None:
        self._closed.set()
        self._iterator.close()

    def _stopping(self) -> bool:
        return self._closed.is_set() or (self._cancel is not None and self._cancel.is_set())

    def _run(self) -> Iterator[str]:
        start = time.perf_counter()
        try:
            for event in self._engine.server.stream_chat(self._body, self._stopping):
                piece = self.reply.feed(event)
                if piece:
                    self.pieces += 1
                    if self.first_piece_s is None:
                        self.first_piece_s = time.perf_counter() - start
                    yield piece
            if self._stopping():
                self.finish_reason = "cancelled"
                return
            calls = self.reply.tool_call_text()
            if calls:  # written into the reply the way local models write them: same cards, same history
                yield ("\n" if self.pieces else "") + calls
            self.finish_reason = self.reply.finish
        except ServerError as error:
            if error.kind == "model":
                raise ServerError(self._engine.with_model_list(str(error)), error.kind, error.status) from None
            raise
        finally:
            self.seconds = time.perf_counter() - start


class ServerChatEngine:
    """One model on one server, answering the calls the chat code makes of a local ChatEngine."""

    device = "server"
    warning = ""

    def __init__(self, server: ChatServer, model: str, context_length: int = 0) -> None:
        self.server, self.model = server, model
        self.path = model  # what the lane compares to keep or replace its engine
        self.context_length = context_length or DEFAULT_CONTEXT

    def count_tokens(self, messages: list[dict], tools=None) -> int:
        """An estimate from characters (the server's tokenizer is on the server)."""
        chars = sum(len(str(m.get("content", ""))) + 16 for m in messages)
        if tools:
            chars += len(json.dumps(list(tools)))
        return chars // CHARS_PER_TOKEN + 1

    def stream(self, messages: list[dict], *, temperature: float = 0.7, top_p: float = 0.9,
               max_new_tokens: int = 512, seed: int | None = None, tools=None,
               cancel: threading.Event | None = None) -> ServerReplyStream:
        body = chat_request(self.model, messages, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                            seed=seed, tools=tools)
        return ServerReplyStream(self, body, cancel, self.count_tokens(messages, tools))

    def reply(self, messages: list[dict], **options) -> str:
        return "".join(self.stream(messages, **options))

    def with_model_list(self, message: str) -> str:
        """An unknown-model error, with the models the server does have when it says."""
        try:
            names = [m.id for m in self.server.models()]
        except ServerError:
            return message
        return f"{message}. It has: {', '.join(names[:12]) or 'no models'}" + ("…" if len(names) > 12 else "")

    def memory_bytes(self, context_tokens: int = 0) -> int:
        return 0  # nothing of it lives in this computer's memory

    def unload(self) -> None:
        pass


def model_context(models: list[ServerModel], name: str) -> int:
    return next((m.context_length for m in models if m.id == name), 0)
