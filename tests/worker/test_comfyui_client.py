"""ComfyUIClient against a real ComfyUI server: the local lane's messages, results saved with their server.

Jobs are tiny (64 px, 1-2 steps) and share the session's server (tests/comfyui_peer.py).
"""

from __future__ import annotations

import json
import time
import urllib.request

import numpy as np
import pytest

from comfyui_peer import CHECKPOINT_NAME, add_lora
from desktop.core.messages import (
    Cancelled,
    Done,
    Failed,
    GenerateJob,
    ImageResult,
    Preview,
    Progress,
    RgbImage,
    Started,
)
from desktop.core.metadata import a1111, read_metadata
from desktop.core.params import GenerationParams
from desktop.core.server_address import ServerAddress
from desktop.core.steering import ControlSpec, RegionSpec
from desktop.core.server_messages import ServerModels, ServerModelsJob
from desktop.worker.comfyui_client import ComfyUIClient

TINY = dict(width=64, height=64, steps=1, guidance=1.0, scheduler="Euler")  # cfg 1: one UNet pass a step


@pytest.fixture
def make_client(qtbot, tmp_path):
    clients = []

    def make(url, **address):
        client = ComfyUIClient(ServerAddress.checked(url, **address), lambda: tmp_path / "outputs")
        client.start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.stop()


def _wait(qtbot, handle, timeout=120_000):
    qtbot.waitUntil(lambda: handle.done, timeout=timeout)
    return handle.terminal


def _post(url, path, body):
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10)) if path == "/prompt" else \
        urllib.request.urlopen(request, timeout=10).read()


def _get(url, path):
    return json.load(urllib.request.urlopen(url + path, timeout=10))


def _wait_running(qtbot, url):
    """Until the server runs a prompt (ours: nothing else is queued)."""
    qtbot.waitUntil(lambda: bool(_get(url, "/queue")["queue_running"]), timeout=60_000)


def test_txt2img_with_a_lora_streams_like_a_local_job_and_saves_with_the_server(qtbot, comfyui_server, make_client,
                                                                                 tmp_path):
    add_lora(comfyui_server.base, "grain.safetensors")
    client = make_client(comfyui_server.url)
    models = client.submit(ServerModelsJob())
    assert isinstance(_wait(qtbot, models, 30_000), Done)
    listed = next(m for m in models.received if isinstance(m, ServerModels))
    assert CHECKPOINT_NAME in listed.checkpoints and "grain.safetensors" in listed.loras
    params = GenerationParams(prompt="a lighthouse <lora:grain:0.7>", seed=5, **TINY)
    handle = client.submit(GenerateJob(params, CHECKPOINT_NAME))
    assert isinstance(_wait(qtbot, handle), Done), handle.terminal
    kinds = [type(m) for m in handle.received]
    assert kinds[0] is Started and kinds[-1] is Done
    steps = [m.step for m in handle.received if isinstance(m, Progress)]
    assert steps[0] == 0 and steps[-1] == 1 and steps == sorted(steps)
    previews = [m for m in handle.received if isinstance(m, Preview)]
    # latent2rgb frames over /ws (ComfyUI scales them to its preview size, keeping the aspect)
    assert previews and previews[0].image.width == previews[0].image.height >= 8
    result = next(m for m in handle.received if isinstance(m, ImageResult))
    assert (result.image.width, result.image.height) == (64, 64)
    assert np.frombuffer(result.image.data, np.uint8).std() > 0  # an image, not a blank
    assert result.params.loras == (("grain", 0.7),) and result.params.prompt == "a lighthouse"
    info = read_metadata(result.path)  # the same record as a local image, plus the server
    assert info.prompt == "a lighthouse" and info.seed == 5 and info.model == CHECKPOINT_NAME
    assert info.atelier_params["extra"]["server"] == comfyui_server.url
    assert a1111.parse(_a1111_text(result.path)).extra["Server"] == comfyui_server.url
    assert "lora key not loaded" not in comfyui_server.log_tail(200)  # every LoRA layer found its weight


def _a1111_text(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.text["parameters"]


def test_inpaint_uploads_source_and_mask(qtbot, comfyui_server, make_client):
    client = make_client(comfyui_server.url)
    source = np.zeros((48, 80, 3), np.uint8)
    source[:, :40] = (200, 30, 30)
    mask = np.zeros((48, 80), np.uint8)
    mask[10:30, 20:60] = 255
    params = GenerationParams(prompt="a window", mode="inpaint", strength=0.8, seed=3, **TINY)
    job = GenerateJob(params, CHECKPOINT_NAME, init_image=RgbImage(80, 48, source.tobytes()), mask=mask.tobytes())
    handle = client.submit(job)
    assert isinstance(_wait(qtbot, handle), Done), handle.terminal
    result = next(m for m in handle.received if isinstance(m, ImageResult))
    assert (result.image.width, result.image.height) == (64, 64)
    assert read_metadata(result.path).extra.get("mode") == "inpaint"
    temp = comfyui_server.base / "temp"
    assert len(list(temp.glob("atelier-*-image.png"))) >= 1 and len(list(temp.glob("atelier-*-mask.png"))) >= 1


def test_missing_checkpoint_lora_and_node_are_named(qtbot, comfyui_server, make_client):
    client = make_client(comfyui_server.url)
    handle = client.submit(GenerateJob(GenerationParams(prompt="x", **TINY), "sdxl-base"))
    failed = _wait(qtbot, handle, 30_000)
    assert isinstance(failed, Failed)
    assert f"has no checkpoint 'sdxl-base'; it has: {CHECKPOINT_NAME}" in failed.message
    handle = client.submit(GenerateJob(GenerationParams(prompt="x <lora:nowhere:1>", **TINY), CHECKPOINT_NAME))
    failed = _wait(qtbot, handle, 30_000)
    assert isinstance(failed, Failed) and "has no LoRA 'nowhere'" in failed.message
    handle = client.submit(GenerateJob(GenerationParams(prompt="x", fast_mode=True, **TINY), CHECKPOINT_NAME))
    failed = _wait(qtbot, handle, 30_000)
    assert isinstance(failed, Failed) and "Fast mode picks a few-step recipe" in failed.message
    handle = client.submit(GenerateJob(GenerationParams(prompt="x", **dict(TINY, scheduler="TCD")), CHECKPOINT_NAME))
    failed = _wait(qtbot, handle, 30_000)
    assert isinstance(failed, Failed) and "ComfyUI's KSampler has no TCD sampler" in failed.message
    steered = GenerationParams(prompt="x", controls=(ControlSpec("canny", "canny-sd15"),),
                               regions=(RegionSpec("a cat"),), **TINY)
    handle = client.submit(GenerateJob(steered, CHECKPOINT_NAME))  # refused, not made without its steering
    failed = _wait(qtbot, handle, 30_000)
    assert isinstance(failed, Failed)
    assert failed.message == ("the job names control layers and regional prompts but carries none of their pictures: "
                              "mark the layers on the canvas again (Layer > Steer)")


def test_cancel_interrupts_a_running_job_on_the_server(qtbot, comfyui_server, make_client):
    client = make_client(comfyui_server.url)
    params = GenerationParams(prompt="x", **dict(TINY, steps=30))
    handle = client.submit(GenerateJob(params, CHECKPOINT_NAME))
    _wait_running(qtbot, comfyui_server.url)
    started = time.monotonic()
    assert handle.cancel()
    assert isinstance(_wait(qtbot, handle, 10_000), Cancelled)
    assert time.monotonic() - started < 5
    qtbot.waitUntil(lambda: not _get(comfyui_server.url, "/queue")["queue_running"], timeout=30_000)
    history = _get(comfyui_server.url, "/history?max_items=1")
    messages = [kind for entry in history.values() for kind, _ in entry["status"]["messages"]]
    assert "execution_interrupted" in messages  # the server stopped, not just Atelier


def test_cancel_takes_a_job_waiting_on_the_server_out_of_its_queue(qtbot, comfyui_server, make_client):
    from desktop.core.comfyui_graph import GraphInputs, build_graph

    # someone else's long job keeps the server busy
    other = build_graph(GenerationParams(prompt="y", **dict(TINY, steps=40)), GraphInputs(CHECKPOINT_NAME)).nodes
    other_id = _post(comfyui_server.url, "/prompt", {"prompt": other, "client_id": "someone-else"})["prompt_id"]
    try:
        client = make_client(comfyui_server.url)
        handle = client.submit(GenerateJob(GenerationParams(prompt="x", **TINY), CHECKPOINT_NAME))
        qtbot.waitUntil(lambda: len(_get(comfyui_server.url, "/queue")["queue_pending"]) == 1, timeout=30_000)
        ours = _get(comfyui_server.url, "/queue")["queue_pending"][0][1]
        assert handle.cancel()
        assert isinstance(_wait(qtbot, handle, 10_000), Cancelled)
        queue = _get(comfyui_server.url, "/queue")
        assert queue["queue_pending"] == []  # ours is gone from the server's queue
        assert [item[1] for item in queue["queue_running"]] == [other_id]  # theirs runs on
        assert ours not in _get(comfyui_server.url, "/history")
    finally:
        _post(comfyui_server.url, "/interrupt", {"prompt_id": other_id})
        qtbot.waitUntil(lambda: not _get(comfyui_server.url, "/queue")["queue_running"], timeout=30_000)


def _ticks(qtbot):
    """A GUI-thread timer: it keeps counting only while the window's event loop is free."""
    from PySide6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    return timer, ticks


def test_a_server_that_hangs_mid_job_fails_clearly_and_the_window_never_waits(qtbot, comfyui_server, make_client):
    client = make_client(comfyui_server.url, keepalive_s=2.0)
    handle = client.submit(GenerateJob(GenerationParams(prompt="x", **dict(TINY, steps=30)), CHECKPOINT_NAME))
    _wait_running(qtbot, comfyui_server.url)
    timer, ticks = _ticks(qtbot)
    comfyui_server.pause()  # the machine stops answering: no reply, no close
    try:
        failed = _wait(qtbot, handle, 15_000)
        hung_for = time.monotonic() - ticks[0]
    finally:
        comfyui_server.resume()
        timer.stop()
        _post(comfyui_server.url, "/interrupt", {})
    assert isinstance(failed, Failed)
    assert "stopped answering during the job (no reply within 2 s): it may be hung" in failed.message
    assert len(ticks) > hung_for / 0.02 * 0.5  # the event loop ran all along (at least half its ticks)
    qtbot.waitUntil(lambda: not _get(comfyui_server.url, "/queue")["queue_running"], timeout=60_000)


@pytest.mark.kills_comfyui
def test_a_server_killed_mid_job_fails_the_job_clearly(qtbot, comfyui_server, make_client):
    client = make_client(comfyui_server.url)
    handle = client.submit(GenerateJob(GenerationParams(prompt="x", **dict(TINY, steps=30)), CHECKPOINT_NAME))
    _wait_running(qtbot, comfyui_server.url)
    comfyui_server.kill()
    failed = _wait(qtbot, handle, 15_000)
    assert isinstance(failed, Failed)
    assert "lost the connection to the ComfyUI server at" in failed.message
    assert "the server stopped, restarted or the network dropped" in failed.message
    again = client.submit(GenerateJob(GenerationParams(prompt="x", **TINY), CHECKPOINT_NAME))
    failed = _wait(qtbot, again, 15_000)  # the lane goes on: the next job says the server is not there
    assert isinstance(failed, Failed) and "nothing is listening there" in failed.message
