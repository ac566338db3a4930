"""A reply from saved history to saved answer, with the real store and a tiny real model."""

from __future__ import annotations

import threading

import pytest

from desktop.core.chat_context import ContextError
from desktop.core.chat_store import ChatStore
from desktop.core.tool_calls import TOOLS
from desktop.engine.chat import ChatEngine
from desktop.engine.chat_reply import stream_reply
from desktop.engine.tiny_models import build_chat_lm


@pytest.fixture(scope="module")
def engine(tiny_chat):
    return ChatEngine.load(tiny_chat, device="cpu")


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "chat.sqlite3", flush_pieces=4) as opened:
        yield opened


def test_reply_is_streamed_and_saved_complete(store, engine):
    conversation = store.create_conversation("t", system_prompt="You help.", temperature=0.8, max_new_tokens=20)
    store.add_message(conversation.id, "user", "a fox?")
    started, pieces = [], []
    outcome = stream_reply(store, engine, conversation.id, seed=2,
                           on_start=lambda message, notice: started.append((message.status, notice)),
                           on_piece=lambda message_id, piece: pieces.append((message_id, piece)))
    assert started == [("streaming", "")]
    assert outcome.message.status == "complete" and outcome.finish_reason in ("stop", "length")
    assert outcome.message.content == "".join(piece for _id, piece in pieces)
    assert {message_id for message_id, _piece in pieces} == {outcome.message.id}
    assert store.messages(conversation.id)[-1] == outcome.message
    assert 0 < outcome.tokens <= 20 and outcome.prompt_tokens > 5


def test_regenerate_gives_the_same_reply_for_the_same_seed(store, engine):
    conversation = store.create_conversation("t", temperature=0.9, max_new_tokens=12)
    question = store.add_message(conversation.id, "user", "hello")
    first = stream_reply(store, engine, conversation.id, seed=9).message.content
    store.truncate_after(question.id)  # regenerate
    again = stream_reply(store, engine, conversation.id, seed=9)
    assert again.message.content == first
    assert [m.role for m in store.messages(conversation.id)] == ["user", "assistant"]


def test_stopped_reply_is_kept_and_marked_stopped(store, engine):
    conversation = store.create_conversation("t", temperature=1.0, max_new_tokens=400)
    store.add_message(conversation.id, "user", "talk")
    cancel = threading.Event()

    def on_piece(_message_id, _piece):
        cancel.set()

    outcome = stream_reply(store, engine, conversation.id, seed=1, cancel=cancel, on_piece=on_piece)
    assert outcome.finish_reason == "cancelled" and outcome.message.status == "stopped"
    assert outcome.message.content and outcome.tokens < 400


class _FailingEvent(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        if self.calls > 5:
            raise MemoryError("simulated: the device ran out of memory")
        return False


def test_failure_mid_reply_is_saved_as_an_error_and_raised(store, engine):
    conversation = store.create_conversation("t", temperature=1.0, max_new_tokens=100)
    store.add_message(conversation.id, "user", "talk")
    with pytest.raises(MemoryError):
        stream_reply(store, engine, conversation.id, seed=1, cancel=_FailingEvent())
    failed = store.messages(conversation.id)[-1]
    assert failed.status == "error" and "ran out of memory" in failed.error and failed.content


def test_long_history_leaves_out_old_turns_and_says_so(store, tmp_path):
    small = ChatEngine.load(build_chat_lm(tmp_path / "small", max_positions=160), device="cpu")
    conversation = store.create_conversation("t", system_prompt="Persona stays.", max_new_tokens=32)
    for index in range(12):
        store.add_message(conversation.id, "user", f"question {index} about the fox")
        store.add_message(conversation.id, "assistant", f"answer {index}: a fox in snow")
    store.add_message(conversation.id, "user", "last one")
    notices = []
    outcome = stream_reply(store, small, conversation.id, seed=0, on_start=lambda _m, notice: notices.append(notice))
    assert "oldest messages are left out" in outcome.notice and notices == [outcome.notice]
    assert outcome.prompt_tokens <= 160 - 32
    assert len(store.messages(conversation.id)) == 26  # the history itself is never cut


def test_tools_count_against_the_context(store, tmp_path):
    small = ChatEngine.load(build_chat_lm(tmp_path / "tiny-context", max_positions=96), device="cpu")
    conversation = store.create_conversation("t", max_new_tokens=16)
    store.add_message(conversation.id, "user", "make a fox")
    assert stream_reply(store, small, conversation.id, seed=0).message.status == "complete"
    store.add_message(conversation.id, "user", "again with tools")
    with pytest.raises(ContextError):  # the tool list alone is longer than this context
        stream_reply(store, small, conversation.id, seed=0, tools=TOOLS)
    assert store.messages(conversation.id)[-1].role == "user"  # nothing saved for a reply never started
