"""Image jobs on a ComfyUI server's lane: the same GenerateJob and messages as the local lane.

The handler resolves names against what the server has (checkpoint, LoRAs, VAE), uploads the source
image and mask, checks the server has every node the graph needs, runs the graph, and saves each image
into Atelier's outputs with the same metadata as a local one plus the server that made it. All network
I/O happens here, on the lane thread: the window never waits for the server.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Callable

from desktop.core.comfyui_graph import GraphInputs, build_graph, required_nodes, resolve_name, wanted_loras
from desktop.core.messages import GenerateJob, ImageResult, Preview, Progress, RgbImage, Status
from desktop.core.server_address import ServerAddress
from desktop.core.server_messages import ServerModels, ServerModelsJob, with_server
from desktop.remote.comfyui_connection import ComfyUIConnection, ServerError
from desktop.remote.comfyui_job import JobEvents, run_graph
from desktop.worker.lane import JobContext

CONNECTION_KEY = "comfyui_connection"
_KNOWN_NODES = "comfyui_known_nodes"


def connection(context: JobContext, address: ServerAddress) -> ComfyUIConnection:
    """The lane's one connection to the server (made on the lane thread, on first use)."""
    found = context.resources.get(CONNECTION_KEY)
    if found is None:
        found = context.resources[CONNECTION_KEY] = ComfyUIConnection(address)
    return found


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _check_nodes(context: JobContext, server: ComfyUIConnection, nodes: list[str]) -> None:
    known: set = context.resources.setdefault(_KNOWN_NODES, set())
    missing = server.missing_nodes([node for node in nodes if node not in known])
    known.update(node for node in nodes if node not in missing)
    if missing:
        raise ServerError(f"{server.name} does not have the node(s) {', '.join(missing)} that this job needs: "
                          "install them there (or update ComfyUI), or use this computer instead")


def _graph_inputs(server: ComfyUIConnection, job: GenerateJob) -> tuple[GraphInputs, tuple]:
    """Server names for what the job asks for, and the LoRAs as the image records them."""
    params = job.params
    try:
        checkpoint = resolve_name(job.model_path or params.model, server.models("checkpoint"), "checkpoint", server.name)
        _, refs = wanted_loras(params)
        loras, recorded = [], []
        if refs:
            available = server.models("LoRA")
            for ref in refs:
                name = resolve_name(ref.name, available, "LoRA", server.name)
                loras.append((name, ref.weight))
                recorded.append((ref.name, ref.weight))
        vae = resolve_name(params.vae, server.models("VAE"), "VAE", server.name) if params.vae else ""
    except LookupError as error:
        raise ServerError(str(error)) from None
    image = mask = ""
    if params.mode != "txt2img" and job.init_image is not None:
        from PIL import Image

        size = (params.width, params.height)
        source = job.init_image.to_pil()
        tag = uuid.uuid4().hex[:12]
        image = server.upload_image(_png(source.convert("RGB").resize(size)), f"atelier-{tag}-image.png")
        if job.mask is not None:
            grey = Image.frombytes("L", (source.width, source.height), job.mask).resize(size)
            mask = server.upload_image(_png(grey), f"atelier-{tag}-mask.png")
    return GraphInputs(checkpoint, tuple(loras), image, mask, vae), tuple(recorded)


def make_generate_handler(address: ServerAddress, outputs_dir: Callable[[], Path]):
    def run_generate(context: JobContext) -> None:
        job: GenerateJob = context.job
        params = job.params
        server = connection(context, address)
        context.emit(Status(f"Sending the job to {server.name}…"))
        inputs, recorded_loras = _graph_inputs(server, job)
        prompt, _ = wanted_loras(params)
        try:
            graph = build_graph(params, inputs)
        except ValueError as error:
            raise ServerError(str(error)) from None
        _check_nodes(context, server, required_nodes(graph))
        start = time.perf_counter()
        context.emit(Progress(job.job_id, 0, params.steps * params.batch_size, 0.0))
        last_step = [0]

        def on_progress(step: int, total: int) -> None:
            last_step[0] = step
            context.emit(Progress(job.job_id, step, total, time.perf_counter() - start))

        events = JobEvents(
            progress=on_progress,
            preview=lambda image: context.emit(Preview(job.job_id, last_step[0], RgbImage.from_pil(image))),
            status=lambda text: context.emit(Status(text)),
        )
        images = run_graph(server, graph, context.cancel, events)
        seconds = time.perf_counter() - start
        recorded = with_server(params.replace(prompt=prompt, loras=recorded_loras, model=inputs.checkpoint),
                               address.url)
        for index, image in enumerate(images[:params.batch_size]):
            image_params = recorded.replace(seed=recorded.seed + index) if index else recorded
            path, error = _save(image, image_params, outputs_dir(), inputs.checkpoint, seconds, job.c2pa_key_dir)
            context.emit(ImageResult(job.job_id, RgbImage.from_pil(image), image_params, index, seconds, path, error))

    return run_generate


def _save(image, params, folder: Path, model_name: str, seconds: float, c2pa_key_dir: str) -> tuple[str, str]:
    from desktop.core.outputs import save_generation

    try:
        key_dir = Path(c2pa_key_dir) if c2pa_key_dir else None
        return str(save_generation(image, params, folder, model_name=model_name, seconds=seconds,
                                   c2pa_key_dir=key_dir)), ""
    except OSError as error:
        return "", f"could not save the image in {folder}: {error.strerror or error}. It is kept on the canvas."


def make_models_handler(address: ServerAddress):
    def run_models(context: JobContext) -> None:
        server = connection(context, address)
        version = server.version()  # fails clearly when the address is not a ComfyUI server
        lists = {}
        for kind in ("checkpoint", "LoRA", "VAE", "ControlNet"):
            try:
                lists[kind] = tuple(server.models(kind))
            except ServerError:
                lists[kind] = ()  # a server without that loader node simply has none of that kind
        context.emit(ServerModels(context.job.job_id, address.url, version, lists["checkpoint"], lists["LoRA"],
                                  lists["VAE"], lists["ControlNet"]))

    return run_models


def comfyui_handlers(address: ServerAddress, outputs_dir: Callable[[], Path]) -> dict:
    return {GenerateJob: make_generate_handler(address, outputs_dir), ServerModelsJob: make_models_handler(address)}
