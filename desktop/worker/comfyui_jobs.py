"""Image jobs on a ComfyUI server's lane: the same GenerateJob and messages as the local lane.

All network I/O happens here, on the lane thread (desktop/remote does the talking): the window never
waits for the server. Each image is saved into Atelier's outputs with the same metadata as a local one,
plus the server that made it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from desktop.core.messages import GenerateJob, ImageResult, Preview, Progress, RgbImage, Status
from desktop.core.server_address import ServerAddress
from desktop.core.server_messages import ServerModels, ServerModelsJob
from desktop.remote.comfyui_connection import ComfyUIConnection, ServerError
from desktop.remote.comfyui_generate import generate
from desktop.remote.comfyui_job import JobEvents
from desktop.worker.lane import JobContext

CONNECTION_KEY = "comfyui_connection"
KNOWN_NODES_KEY = "comfyui_known_nodes"
ESTIMATORS_KEY = "comfyui_depth_estimators"  # depth/pose models that make control pictures here, kept on the lane


def connection(context: JobContext, address: ServerAddress) -> ComfyUIConnection:
    """The lane's one connection to the server (made on the lane thread, on first use)."""
    found = context.resources.get(CONNECTION_KEY)
    if found is None:
        found = context.resources[CONNECTION_KEY] = ComfyUIConnection(address)
    return found


def make_generate_handler(address: ServerAddress, outputs_dir: Callable[[], Path]):
    def run_generate(context: JobContext) -> None:
        job: GenerateJob = context.job
        server = connection(context, address)
        context.emit(Status(f"Sending the job to {server.name}…"))
        start = time.perf_counter()
        context.emit(Progress(job.job_id, 0, job.params.steps * job.params.batch_size, 0.0))
        last_step = [0]

        def on_progress(step: int, total: int) -> None:
            last_step[0] = step
            context.emit(Progress(job.job_id, step, total, time.perf_counter() - start))

        events = JobEvents(
            progress=on_progress,
            preview=lambda image: context.emit(Preview(job.job_id, last_step[0], RgbImage.from_pil(image))),
            status=lambda text: context.emit(Status(text)),
        )
        result = generate(server, job, context.cancel, events, context.resources.setdefault(KNOWN_NODES_KEY, set()),
                          _preprocessor(context, job))
        seconds = time.perf_counter() - start
        for index, image in enumerate(result.images):
            params = result.params.replace(seed=result.params.seed + index) if index else result.params
            path, error = _save(image, params, outputs_dir(), result.checkpoint, seconds, job.c2pa_key_dir) \
                if job.keep else ("", "")  # a Reproduce check is compared, not saved again
            context.emit(ImageResult(job.job_id, RgbImage.from_pil(image), params, index, seconds, path, error))

    return run_generate


def _preprocessor(context: JobContext, job: GenerateJob):
    """The engine's control preprocessor with the user's depth/pose models, only when a control needs one
    (the model-free ones need no torch: comfyui_steering makes them itself)."""
    from desktop.remote.comfyui_steering import needs_local_model

    if not needs_local_model(job.params):
        return None
    from desktop.engine.control_images import DepthEstimators, local_preprocessor

    estimators = context.resources.get(ESTIMATORS_KEY)
    if estimators is None:
        estimators = context.resources[ESTIMATORS_KEY] = DepthEstimators()
    return local_preprocessor(job.addons, estimators)


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
