"""The OpenAI-compatible client against real servers on 127.0.0.1: replies, refusals, hangs, garbage, drops."""

import logging
import threading
import time

import pytest
from chat_servers import TINY_REPO, free_port

from desktop.core.chat_server import ChatServer, ServerError, check_api_key, check_server_url
from desktop.core.server_reply import ServerReply, chat_request
from desktop.core.tool_calls import TextSegment, ToolCall, parse_reply


@pytest.mark.parametrize("typed, url", [
    ("localhost:11434", "http://localhost:11434/v1"),
    ("http://localhost:1234/v1/", "http://localhost:1234/v1"),
    ("https://gpu-box.studio.lan/api/openai/v1", "https://gpu-box.studio.lan/api/openai/v1"),
    ("  http://192.168.1.20:8000  ", "http://192.168.1.20:8000/v1"),
    ("http://[::1]:8080", "http://[::1]:8080/v1"),
])
def test_addresses_people_type(typed, url):
    assert check_server_url(typed) == url


@pytest.mark.parametrize("typed, message", [
    ("", "type the server's address"),
    ("ftp://host/v1", "http:// or https://"),
    ("http://user:secret@host:1234", "out of the address"),
    ("http://host:99999", "not a valid address"),
    ("http://host/v1?key=abc", "must not have a ?query"),
    ("http://ho st/v1", "spaces"),
    ("ho st:11434", "spaces"),
    ("http://", "names no host"),
])
def test_bad_addresses_are_refused_with_what_to_fix(typed, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        check_server_url(typed)


def test_api_keys_that_cannot_go_in_a_header_are_refused():
    assert check_api_key("  sk-abc123  ") == "sk-abc123"
    for bad in ("sk abc", "sk-abc\nX-Evil: 1", "ключ", "x" * 5000):
        with pytest.raises(ValueError):
            check_api_key(bad)


def _reply(server, model="scripted", should_stop=lambda: False, **extra):
    reply = ServerReply()
    body = chat_request(model, [{"role": "user", "content": "hi"}], temperature=0, top_p=1, max_tokens=8, **extra)
    text = "".join(reply.feed(event) for event in server.stream_chat(body, should_stop))
    return text, reply


def test_streams_a_reply_and_lists_models(scripted_server):
    fake = scripted_server()
    server = ChatServer(fake.url)
    assert [(m.id, m.context_length) for m in server.models()] == [("scripted", 4096), ("other", 0)]
    text, reply = _reply(server, seed=5)
    assert text == "Hello from the server." and reply.finish == "stop"
    assert reply.prompt_tokens == 12 and reply.completion_tokens == 3
    assert fake.requests[-1]["stream"] is True and fake.requests[-1]["seed"] == 5


def test_real_transformers_serve_lists_and_streams(transformers_server):
    server = ChatServer(transformers_server.url)
    assert TINY_REPO in [m.id for m in server.models()]
    text, reply = _reply(server, TINY_REPO)
    assert reply.events >= 2 and reply.finish in ("stop", "length") and isinstance(text, str)


def test_api_key_goes_in_the_header_only(scripted_server, caplog):
    fake = scripted_server(key="sk-test-9f8e7d")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServerError) as refused:
        ChatServer(fake.url).models()
    assert refused.value.kind == "auth" and "needs an API key" in str(refused.value)
    wrong = ChatServer(fake.url, "sk-wrong")
    with pytest.raises(ServerError, match="refused the request .401 Unauthorized.: check the API key"):
        _reply(wrong)
    right = ChatServer(fake.url, "sk-test-9f8e7d")
    assert _reply(right)[0] == "Hello from the server."
    assert fake.headers[-1]["Authorization"] == "Bearer sk-test-9f8e7d"
    assert "sk-test" not in repr(right) and "sk-wrong" not in repr(wrong)
    assert "sk-test" not in caplog.text and "sk-wrong" not in caplog.text


def test_unknown_model_server_down_and_wrong_path(scripted_server):
    fake = scripted_server()
    with pytest.raises(ServerError) as unknown:
        _reply(ChatServer(fake.url), "llama9")
    assert unknown.value.kind == "model" and "no model named 'llama9'" in str(unknown.value)
    with pytest.raises(ServerError) as down:
        ChatServer(f"http://127.0.0.1:{free_port()}").models()
    assert down.value.kind == "unreachable" and "Is it running" in str(down.value)
    with pytest.raises(ServerError, match="no /models endpoint|OpenAI-compatible address|model list"):
        ChatServer(fake.url + "/not-here").models()


@pytest.mark.parametrize("mode, kind, message", [
    ("garbage", "protocol", "not OpenAI-compatible JSON"),
    ("endless", "too-large", "more than 1 MB"),
    ("drop", "dropped", "closed the connection mid-reply"),
])
def test_broken_streams_say_what_happened_after_keeping_what_came(scripted_server, mode, kind, message):
    server = ChatServer(scripted_server(mode=mode).url)
    reply = ServerReply()
    body = chat_request("scripted", [{"role": "user", "content": "hi"}], temperature=0, top_p=1, max_tokens=8)
    pieces = []
    with pytest.raises(ServerError) as error:
        for event in server.stream_chat(body):
            pieces.append(reply.feed(event))
    assert error.value.kind == kind and message in str(error.value)
    if mode in ("garbage", "drop"):
        assert "".join(pieces) in ("Fine so far", "Cut short")  # what came before the break is there


def test_a_garbage_model_list(scripted_server):
    with pytest.raises(ServerError, match="OpenAI-style model list"):
        ChatServer(scripted_server(mode="garbage").url).models()


def test_a_hung_server_times_out(scripted_server):
    server = ChatServer(scripted_server(mode="stall").url, read_timeout_s=0.5)
    start = time.monotonic()
    with pytest.raises(ServerError) as error:
        _reply(server)
    assert error.value.kind == "timeout" and "seems to hang" in str(error.value)
    assert time.monotonic() - start < 5
    silent = ChatServer(scripted_server(mode="hang").url, read_timeout_s=0.5)
    with pytest.raises(ServerError, match="sent nothing for 0 s|sent nothing for 1 s"):
        _reply(silent)


def test_stop_closes_a_stream_that_is_waiting_on_a_silent_server(scripted_server):
    server = ChatServer(scripted_server(mode="stall").url, read_timeout_s=60)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    text, _reply_ = _reply(server, should_stop=stop.is_set)
    assert text == "A partial reply"
    assert time.monotonic() - start < 2  # not the 60 s read timeout


def test_tool_call_deltas_become_the_calls_local_models_write(scripted_server):
    text, reply = _reply(ChatServer(scripted_server(mode="tools").url))
    assert text == "Setting it up." and reply.finish_reason == "tool_calls" and reply.finish == "stop"
    pieces = parse_reply(text + "\n" + reply.tool_call_text())
    calls = [p for p in pieces if isinstance(p, ToolCall)]
    assert [(c.name, dict(c.arguments)) for c in calls] == [("set_seed", {"seed": 42}),
                                                             ("set_size", {"width": 640, "height": 512})]


def test_malformed_server_tool_calls_stay_text_with_the_reason():
    reply = ServerReply()
    reply.feed({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"name": "rm_rf", "arguments": "{}"}},
        {"index": 1, "function": {"name": "set_seed", "arguments": '{"seed": "lots"'}}]}}]})
    pieces = parse_reply(reply.tool_call_text())
    problems = [p.problem for p in pieces if isinstance(p, TextSegment) and p.problem]
    assert len(problems) == 2 and "unknown tool" in problems[0]
    assert not any(isinstance(p, ToolCall) for p in pieces)
