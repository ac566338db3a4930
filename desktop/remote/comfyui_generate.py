"""One GenerateJob on a ComfyUI server, from names to images: shared by the server's lane and `main.py generate`.

Names are resolved against what the server has (checkpoint, LoRAs, VAE; exact or by stem), the source
image and mask are uploaded at the generation size, the server is asked for every node the graph needs
before anything is queued, and the images come back with the params they record: the prompt without
its LoRA tags, the LoRAs, the checkpoint, and which server made them.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass

from desktop.core.comfyui_graph import GraphInputs, build_graph, required_nodes, resolve_name, wanted_loras
from desktop.core.messages import GenerateJob
from desktop.core.params import GenerationParams
from desktop.core.server_messages import with_server
from desktop.remote.comfyui_connection import ComfyUIConnection, NotOnServer, ServerError
from desktop.remote.comfyui_job import JobEvents, run_graph
from desktop.remote.comfyui_steering import Preprocess, refuse_unsupported, upload_steering


@dataclass
class RemoteResult:
    """What one job made: PIL images in batch order, and the params image 0 records (image N: seed + N)."""

    images: list
    params: GenerationParams
    checkpoint: str


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def check_nodes(server: ComfyUIConnection, nodes: list[str], known: set) -> None:
    """ServerError naming the nodes the server lacks; `known` remembers those it has (one question each)."""
    missing = server.missing_nodes([node for node in nodes if node not in known])
    known.update(node for node in nodes if node not in missing)
    if missing:
        raise ServerError(f"{server.name} does not have the node(s) {', '.join(missing)} that this job needs: "
                          "install them there (or update ComfyUI), or use this computer instead")


def graph_inputs(server: ComfyUIConnection, job: GenerateJob,
                 preprocess: Preprocess | None = None) -> tuple[GraphInputs, tuple, tuple]:
    """Server names for what the job asks for (images uploaded), and the LoRAs and controls as the image
    records them. `preprocess` makes control pictures here (comfyui_steering; model-free by default)."""
    params = job.params
    refuse_unsupported(server, job)  # before anything is uploaded
    try:
        checkpoint = resolve_name(job.model_path or params.model, server.models("checkpoint"), "checkpoint",
                                  server.name)
        _, refs = wanted_loras(params)
        loras, recorded = [], []
        available = server.models("LoRA") if refs else []
        for ref in refs:
            loras.append((resolve_name(ref.name, available, "LoRA", server.name), ref.weight))
            recorded.append((ref.name, ref.weight))
        vae = resolve_name(params.vae, server.models("VAE"), "VAE", server.name) if params.vae else ""
    except LookupError as error:
        raise NotOnServer(str(error)) from None
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
    steering = upload_steering(server, job, preprocess)
    recorded_controls = steering.pop("recorded_controls")
    return GraphInputs(checkpoint, tuple(loras), image, mask, vae, **steering), tuple(recorded), recorded_controls


def generate(server: ComfyUIConnection, job: GenerateJob, cancel: threading.Event, events: JobEvents,
             known_nodes: set | None = None, preprocess: Preprocess | None = None) -> RemoteResult:
    """Run `job` on the server. Raises ServerError (a sentence to show) or JobCancelled.

    `preprocess` makes the control layers' pictures on this computer (see comfyui_steering.Preprocess).
    """
    if job.params.fast_mode or job.params.fast_recipe or job.params.cache_interval > 1:
        raise ServerError("Fast mode picks a few-step recipe for a model on this computer: switch it off to "
                          f"generate on {server.name}")
    inputs, recorded_loras, recorded_controls = graph_inputs(server, job, preprocess)
    try:
        graph = build_graph(job.params, inputs)
    except ValueError as error:
        raise ServerError(str(error)) from None
    check_nodes(server, required_nodes(graph), set() if known_nodes is None else known_nodes)
    images = run_graph(server, graph, cancel, events)
    prompt, _ = wanted_loras(job.params)
    recorded = job.params.replace(prompt=prompt, loras=recorded_loras, model=inputs.checkpoint,
                                  controls=recorded_controls)
    return RemoteResult(images[:job.params.batch_size], with_server(recorded, server.address.url), inputs.checkpoint)
