"""The connection against the real ComfyUI, and a real proxy in front of it serving what a bad server serves."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from PIL import Image

from comfyui_peer import CHECKPOINT_NAME, free_port
from comfyui_proxy import HostileProxy, bomb_png, declared_ten_gb, endless_ten_gb, garbage_json
from desktop.core.comfyui_graph import GraphInputs, build_graph
from desktop.core.params import GenerationParams
from desktop.core.server_address import ServerAddress
from desktop.remote.comfyui_connection import ComfyUIConnection, ServerError
from desktop.remote.comfyui_job import open_events

TOKEN = "atelier-test-Token-5f2c9e"


def _connection(url, **options):
    return ComfyUIConnection(ServerAddress.checked(url, **options))


@pytest.fixture
def proxy():
    proxies = []

    def make(port, **options):
        made = HostileProxy(port, **options)
        proxies.append(made)
        return made

    yield make
    for made in proxies:
        made.close()


def _png(color=(10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_what_the_server_is_and_has(comfyui_server):
    server = _connection(comfyui_server.url)
    assert server.version()
    assert CHECKPOINT_NAME in server.models("checkpoint")
    # this peer's ComfyUI could not import its upscale nodes (no torchvision): a real missing node
    assert server.missing_nodes(["KSampler", "ImageUpscaleWithModel", "NoSuchNode"]) == \
        ["ImageUpscaleWithModel", "NoSuchNode"]


def test_an_invalid_graph_is_refused_with_the_servers_reasons_in_words(comfyui_server):
    server = _connection(comfyui_server.url)
    graph = build_graph(GenerationParams(prompt="x", width=64, height=64), GraphInputs("no-such-model.safetensors"))
    with pytest.raises(ServerError, match=r"refused the job: CheckpointLoaderSimple: Value not in list"):
        server.queue(graph.nodes)
    nodes = dict(graph.nodes, **{"99": {"class_type": "NoSuchNode", "inputs": {}}})
    with pytest.raises(ServerError, match="does not have a node this job needs.*NoSuchNode"):
        server.queue(nodes)


def test_upload_and_view_round_trip(comfyui_server):
    server = _connection(comfyui_server.url)
    name = server.upload_image(_png(), "atelier-roundtrip.png")
    assert name == "atelier-roundtrip.png [temp]"
    image = server.view({"filename": "atelier-roundtrip.png", "subfolder": "", "type": "temp"})
    assert image.size == (24, 16) and image.getpixel((3, 3)) == (10, 200, 30)


def test_nothing_listening_is_said_plainly():
    with pytest.raises(ServerError, match="nothing is listening there"):
        _connection(f"http://127.0.0.1:{free_port()}").version()


def test_garbage_json_is_a_clear_error(comfyui_server, proxy):
    bad = proxy(comfyui_server.port, hostile={"/system_stats": garbage_json, "/object_info": garbage_json})
    server = _connection(bad.url)
    with pytest.raises(ServerError, match=r"answered /system_stats with something that is not JSON \(it starts "
                                          r"'<html><body>502 Bad Gateway"):
        server.version()
    with pytest.raises(ServerError, match="is this the address of a ComfyUI server"):
        server.models("checkpoint")


@pytest.mark.parametrize("answer, says", [
    (declared_ten_gb, "sent 10,737 MB for /view; Atelier accepts at most 268 MB"),
    (endless_ten_gb, "sent more than 268 MB for /view; Atelier stopped reading"),
    (bomb_png, "is too large"),
])
def test_a_10_gb_image_is_refused_while_reading(comfyui_server, proxy, answer, says):
    bad = proxy(comfyui_server.port, hostile={"/view": answer})
    server = _connection(bad.url)
    server.upload_image(_png(), "atelier-big.png")  # forwarded: the real server has the file
    with pytest.raises(ServerError, match=says):
        server.view({"filename": "atelier-big.png", "subfolder": "", "type": "temp"})


def test_the_token_is_sent_only_as_a_header_and_never_logged(comfyui_server, proxy, caplog):
    caplog.set_level(logging.DEBUG)  # requests, urllib3, websockets and ours, at their chattiest
    guarded = proxy(comfyui_server.port, token=TOKEN)
    with pytest.raises(ServerError, match=r"refused /system_stats \(HTTP 401\): the token is wrong or missing"):
        _connection(guarded.url).version()
    with pytest.raises(ServerError, match="refused /system_stats .*HTTP 401"):
        _connection(guarded.url, token="wrong-token").version()
    with pytest.raises(ServerError, match=r"refused the live connection \(/ws, HTTP 401\)"):
        open_events(_connection(guarded.url))
    server = _connection(guarded.url, token=TOKEN)
    assert CHECKPOINT_NAME in server.models("checkpoint")
    with open_events(server) as events:  # the WebSocket upgrade carries it too
        assert '"status"' in events.recv(timeout=10)
    sent = [head for head in guarded.heads if TOKEN in head]
    assert sent and all(f"Authorization: Bearer {TOKEN}" in head for head in sent)
    assert all(TOKEN not in head.split("\r\n", 1)[0] for head in guarded.heads)  # never in a URL
    assert TOKEN not in caplog.text and "wrong-token" not in caplog.text


def test_a_hung_server_times_out_instead_of_waiting_for_ever(comfyui_server):
    server = _connection(comfyui_server.url, connect_timeout_s=1.0, read_timeout_s=1.0)
    comfyui_server.pause()
    try:
        with pytest.raises(ServerError, match="did not answer /system_stats within 1 s: it may be hung"):
            server.version()
        with pytest.raises(ServerError, match=r"did not open the live connection \(/ws\) within 1 s"):
            open_events(server)
    finally:
        comfyui_server.resume()
    assert server.version()  # and it works again once the server does
