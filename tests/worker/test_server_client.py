"""ServerClient: chat on an OpenAI-compatible server through the same jobs, messages and chat store.

Real servers on 127.0.0.1: `transformers serve` (tiny model; SmolLM2's converted GGUF; one killed
mid-reply) and the scripted server for keys, tool calls, hangs and garbage.
"""

from __future__ import annotations

import pytest
from chat_servers import TINY_REPO, TransformersServer, hub_cache_with
from PySide6.QtCore import Qt

from desktop.core.chat_store import ChatStore
from desktop.core.messages import Cancelled, ChatEnded, ChatJob, ChatStarted, Done, EnhanceJob, EnhanceResult, Failed, Token
from desktop.core.tool_calls import tool_calls
from desktop.worker.server_client import ChatModelsJob, ServerClient, ChatModels


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "chat.sqlite3") as opened:
        yield opened


@pytest.fixture
def connect(qtbot, store):
    clients = []

    def make(url: str, key: str = "", **options) -> ServerClient:
        client = ServerClient(url, key, store, **options)
        client.start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.stop()


def ask(store, text="Say hello.", **settings):
    conversation = store.create_conversation("t", **settings)
    store.add_message(conversation.id, "user", text)
    return conversation.id


def finish(qtbot, handle, timeout=60000):
    qtbot.waitUntil(lambda: handle.done, timeout=timeout)
    return handle.terminal


def test_a_reply_from_a_real_server_streams_into_the_chat_store(qtbot, connect, store, transformers_server):
    client = connect(transformers_server.url)
    models = client.submit(ChatModelsJob())
    assert isinstance(finish(qtbot, models), Done)
    listed = next(m for m in models.received if isinstance(m, ChatModels))
    assert TINY_REPO in [m.id for m in listed.models]
    conversation = ask(store, temperature=0.0, max_new_tokens=24)
    handle = client.submit(ChatJob(conversation, TINY_REPO))
    assert isinstance(finish(qtbot, handle), Done)
    kinds = [type(m).__name__ for m in handle.received]
    assert kinds[:2] == ["Started", "ChatStarted"] and kinds[-2:] == ["ChatEnded", "Done"]
    started = next(m for m in handle.received if isinstance(m, ChatStarted))
    tokens = "".join(m.text for m in handle.received if isinstance(m, Token))
    saved = store.message(started.message_id)
    assert saved.status == "complete" and saved.content == tokens and tokens  # one place for persistence
    assert next(m for m in handle.received if isinstance(m, ChatEnded)).status == "complete"


def test_smollm2_on_a_real_server_answers_then_the_server_dies_mid_reply(qtbot, connect, store, smollm2_converted,
                                                                       tmp_path):
    """SmolLM2 (its GGUF converted once) behind `transformers serve`; then the server is killed mid-reply."""
    hub = hub_cache_with(tmp_path / "hub", {"atelier/smollm2-135m": smollm2_converted.folder})
    server = TransformersServer(hub, tmp_path / "serve.log").wait_up()
    try:
        client = connect(server.url)
        conversation = ask(store, "What is the capital of France?", temperature=0.0, max_new_tokens=12)
        handle = client.submit(ChatJob(conversation, "atelier/smollm2-135m", use_tools=False))
        assert isinstance(finish(qtbot, handle, 180000), Done), handle.terminal
        reply = store.messages(conversation)[-1]
        assert reply.status == "complete" and "Paris" in reply.content

        long_one = ask(store, "Write a long story about a lighthouse.", temperature=0.0, max_new_tokens=2000)
        killed = []

        def kill_on_first_token(message):  # on the lane thread, as soon as the first piece is out
            if isinstance(message, Token) and not killed:
                killed.append(message.text)
                server.kill()

        client.worker.message.connect(kill_on_first_token, Qt.ConnectionType.DirectConnection)
        handle = client.submit(ChatJob(long_one, "atelier/smollm2-135m", use_tools=False))
        failed = finish(qtbot, handle, 120000)
    finally:
        server.stop()
    assert killed and isinstance(failed, Failed), failed
    assert "closed the connection mid-reply" in failed.message or "broke mid-reply" in failed.message
    cut = store.messages(long_one)[-1]
    assert cut.status == "error" and cut.content.startswith(killed[0])  # the partial reply is kept
    assert "mid-reply" in cut.error
    assert next(m for m in handle.received if isinstance(m, ChatEnded)).status == "error"


def test_stop_on_a_hung_server_ends_at_once_and_keeps_what_came(qtbot, connect, store, scripted_server):
    client = connect(scripted_server(mode="stall").url, read_timeout_s=60)
    conversation = ask(store)
    handle = client.submit(ChatJob(conversation, "scripted"))
    qtbot.waitUntil(lambda: any(isinstance(m, Token) for m in handle.received), timeout=10000)
    qtbot.wait(100)
    assert handle.cancel()
    assert isinstance(finish(qtbot, handle, 3000), Cancelled)  # within the poll interval, not 60 s
    reply = store.messages(conversation)[-1]
    assert reply.status == "stopped" and reply.content == "A partial reply"


def test_a_hung_server_times_out_with_a_clear_error(qtbot, connect, store, scripted_server):
    client = connect(scripted_server(mode="stall").url, read_timeout_s=0.5)
    conversation = ask(store)
    failed = finish(qtbot, client.submit(ChatJob(conversation, "scripted")), 10000)
    assert isinstance(failed, Failed) and "seems to hang" in failed.message
    reply = store.messages(conversation)[-1]
    assert reply.status == "error" and reply.content == "A partial reply"


def test_tool_calls_from_the_server_are_saved_as_calls_the_cards_show(qtbot, connect, store, scripted_server):
    fake = scripted_server(mode="tools")
    client = connect(fake.url)
    conversation = ask(store, "make it reproducible at 640x512")
    assert isinstance(finish(qtbot, client.submit(ChatJob(conversation, "scripted"))), Done)
    assert [t["function"]["name"] for t in fake.requests[-1]["tools"]][:2] == ["set_prompt", "set_negative_prompt"]
    reply = store.messages(conversation)[-1]
    assert reply.content.startswith("Setting it up.")
    assert [(c.name, dict(c.arguments)) for c in tool_calls(reply.content)] == [
        ("set_seed", {"seed": 42}), ("set_size", {"width": 640, "height": 512})]


@pytest.mark.parametrize("key, model, message", [
    ("", "scripted", "needs an API key"),
    ("sk-wrong", "scripted", "check the API key"),
    ("sk-right", "llama9", "no model named 'llama9'"),
])
def test_refusals_are_said_plainly(qtbot, connect, store, scripted_server, key, model, message):
    client = connect(scripted_server(key="sk-right").url, key)
    failed = finish(qtbot, client.submit(ChatJob(ask(store), model)), 10000)
    assert isinstance(failed, Failed) and message in failed.message
    if model == "llama9":
        assert "It has: scripted, other" in failed.message
    assert "sk-" not in failed.message


def test_garbage_and_server_down(qtbot, connect, store, scripted_server):
    from chat_servers import free_port

    garbage = connect(scripted_server(mode="garbage").url)
    conversation = ask(store)
    failed = finish(qtbot, garbage.submit(ChatJob(conversation, "scripted")), 10000)
    assert "not OpenAI-compatible JSON" in failed.message
    assert store.messages(conversation)[-1].content == "Fine so far"
    down = connect(f"http://127.0.0.1:{free_port()}")
    failed = finish(qtbot, down.submit(ChatModelsJob()), 10000)
    assert isinstance(failed, Failed) and "Cannot reach the chat server" in failed.message


def test_enhance_runs_on_the_server_too(qtbot, connect, scripted_server):
    client = connect(scripted_server().url)
    handle = client.submit(EnhanceJob("a fox", "SD 1.x", "scripted", seed=2))
    assert isinstance(finish(qtbot, handle, 10000), Done)
    result = next(m for m in handle.received if isinstance(m, EnhanceResult))
    assert result.enhanced and result.reply == "Hello from the server."


def test_bad_url_or_key_is_refused_before_any_lane_starts(store):
    with pytest.raises(ValueError, match="http:// or https://"):
        ServerClient("gopher://x", "", store)
    with pytest.raises(ValueError, match="visible ASCII"):
        ServerClient("http://localhost:1", "two words", store)

