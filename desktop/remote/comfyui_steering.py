"""A job's steering on a ComfyUI server: control layers and regional prompts, uploaded; references refused.

Control pictures are made on THIS computer, exactly as the local engine makes them (the preprocessor table
of desktop/core/control_types.py), so the server needs no preprocessor nodes: the caller passes
`preprocess`, which for depth, normal and pose runs the user's local model (desktop/engine/control_images.py,
on the lane) and otherwise the model-free preprocessors of desktop/core/preprocessors.py. Each acting
control's ControlNet is resolved against the server's `controlnet` list (exact or by stem). A control
that cannot change the image (off, weight 0, an empty range) adds nothing, as locally.

Regions: each enabled region's mask is uploaded (white = inside) with a mask of the rest (what no region
covers), where the main prompt applies, as the local engine's attention masks do.

Reference images need IP-Adapter nodes that stock ComfyUI lacks: they are refused before anything is sent.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from typing import Callable

import numpy as np
from PIL import Image

from desktop.core.comfyui_graph import ControlInput, RegionInput, resolve_name
from desktop.core.control_types import control_type
from desktop.core.messages import GenerateJob
from desktop.core.preprocessors import PREPROCESSORS, ControlPicture
from desktop.remote.comfyui_connection import ComfyUIConnection, NotOnServer

# (spec, RGBA at the generation size, inpaint mask or None) -> what the ControlNet reads
Preprocess = Callable[[object, np.ndarray, "np.ndarray | None"], ControlPicture]

REFERENCES_REFUSED = ("reference images (IP-Adapter) cannot be sent to {server}: stock ComfyUI has no IP-Adapter "
                      "nodes (they come from the ComfyUI_IPAdapter_plus custom nodes, which Atelier does not drive "
                      "yet). Switch the reference layers off, or make this image on this computer "
                      "(Settings > Image Engine)")
INPAINT_CONTROL_REFUSED = ("an inpaint control layer cannot be sent to {server}: its picture marks the holes with "
                           "values an image file cannot hold. Switch that control layer off, or make this image "
                           "on this computer (Settings > Image Engine)")


class SteeringRefused(NotOnServer):
    """A steering setting this server cannot run as asked; the message says what to change (bad input)."""


def needs_local_model(params) -> bool:
    """Whether a control of these params needs a depth or pose model run here (the engine's preprocessor)."""
    return any(spec.acts and spec.preprocess and control_type(spec.type).needs_model for spec in params.controls)


def model_free_picture(spec, rgba: np.ndarray, mask: np.ndarray | None) -> ControlPicture:
    """The control picture without any model; the types that need one are refused (callers with the engine
    pass its preprocessor instead, which uses the user's depth or pose model)."""
    row = control_type(spec.type)
    if not spec.preprocess:
        return PREPROCESSORS["none"](rgba, mask)
    if row.unsupported:
        raise SteeringRefused(f"{row.label}: {row.unsupported}")
    if row.needs_model:
        raise SteeringRefused(f"{row.label} from a picture needs a {row.model_kind} model on this computer; "
                              f"turn Preprocess off if the layer already is the {row.label.lower()} map")
    return PREPROCESSORS[row.preprocessor](rgba, mask)


def refuse_unsupported(server: ComfyUIConnection, job: GenerateJob) -> None:
    """Before anything is uploaded: what the server cannot do with this job's steering, in one sentence."""
    params = job.params
    for name, specs, images in (("control", params.controls, job.control_images),
                                ("reference", params.references, job.reference_images),
                                ("region", params.regions, job.region_masks)):
        if images and len(specs) != len(images):  # a caller's bug, said plainly instead of steering the wrong layer
            raise SteeringRefused(f"the job has {len(specs)} {name} settings but {len(images)} {name} images")
    if any(spec.enabled and spec.weight > 0 for spec in params.references):
        raise SteeringRefused(REFERENCES_REFUSED.format(server=server.name))
    unpictured = [what for what, acting, images in (
        ("control layers", any(spec.acts for spec in params.controls), job.control_images),
        ("regional prompts", any(spec.enabled for spec in params.regions), job.region_masks)) if acting and not images]
    if unpictured:  # refused, never dropped: an image made without them is not what was asked for
        raise SteeringRefused(f"the job names {' and '.join(unpictured)} but carries none of their pictures: "
                              "mark the layers on the canvas again (Layer > Steer)")
    if any(spec.acts and spec.type == "inpaint" and spec.preprocess for spec in params.controls):
        raise SteeringRefused(INPAINT_CONTROL_REFUSED.format(server=server.name))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _controlnet(spec, available: list[str], where: str) -> str:
    """The server's file for a control: the one named (exact or by stem), or when none is named the first whose
    name says the type (as the headless local path picks one)."""
    if spec.model:
        return resolve_name(spec.model, available, "ControlNet", where)
    words = control_type(spec.type).model_words
    fitting = sorted(name for name in available if any(word in name.lower() for word in words))
    if not fitting:
        have = ", ".join(available[:20]) or "none"
        raise LookupError(f"{where} has no ControlNet for {spec.type} (its ControlNets: {have}); name one")
    return fitting[0]


def _job_mask(job: GenerateJob, size: tuple[int, int]) -> np.ndarray | None:
    if job.mask is None or job.init_image is None:
        return None
    grey = Image.frombytes("L", (job.init_image.width, job.init_image.height), job.mask)
    return np.asarray(grey.resize(size, Image.NEAREST))


def upload_controls(server: ComfyUIConnection, job: GenerateJob, preprocess: Preprocess,
                    tag: str) -> tuple[tuple[ControlInput, ...], tuple]:
    """ControlInputs for the acting controls (pictures made here, uploaded), and params.controls as recorded:
    the acting ones name the ControlNet the server used."""
    params = job.params
    size = (params.width, params.height)
    acting = [(index, spec) for index, spec in enumerate(params.controls) if spec.acts]
    if not acting:
        return (), params.controls
    try:
        available = server.models("ControlNet")
        names = {index: _controlnet(spec, available, server.name) for index, spec in acting}
    except LookupError as error:
        raise NotOnServer(str(error)) from None
    mask = _job_mask(job, size)
    inputs, recorded = [], list(params.controls)
    for index, spec in acting:
        rgba = np.asarray(job.control_images[index].to_pil().convert("RGBA").resize(size, Image.LANCZOS))
        try:
            picture = preprocess(spec, rgba, mask)
        except (ValueError, OSError) as error:  # the local engine's refusal (a missing depth model), as it says it
            raise SteeringRefused(str(error)) from None
        uploaded = server.upload_image(_png(Image.fromarray(picture.rgb)), f"atelier-{tag}-control{index}.png")
        inputs.append(ControlInput(names[index], uploaded, spec.weight, spec.start, spec.end))
        recorded[index] = replace(spec, model=names[index])
    return tuple(inputs), tuple(recorded)


def upload_regions(server: ComfyUIConnection, job: GenerateJob, tag: str) -> tuple[tuple[RegionInput, ...], str]:
    """The enabled regions with their uploaded masks, and the uploaded mask of the rest ("" without regions)."""
    params = job.params
    size = (params.width, params.height)
    enabled = [(spec, mask) for spec, mask in zip(params.regions, job.region_masks) if spec.enabled]
    if not enabled:
        return (), ""
    inside_any = np.zeros((size[1], size[0]), bool)
    regions = []
    for index, (spec, mask) in enumerate(enabled):
        # inside = at least half white, as the local engine reads a mask
        inside = np.asarray(mask.to_pil().convert("L").resize(size, Image.BILINEAR)) >= 128
        inside_any |= inside
        name = server.upload_image(_png(Image.fromarray(np.where(inside, 255, 0).astype(np.uint8))),
                                   f"atelier-{tag}-region{index}.png")
        regions.append(RegionInput(spec.prompt, name))
    rest = server.upload_image(_png(Image.fromarray(np.where(inside_any, 0, 255).astype(np.uint8))),
                               f"atelier-{tag}-rest.png")
    return tuple(regions), rest


def upload_steering(server: ComfyUIConnection, job: GenerateJob, preprocess: Preprocess | None = None) -> dict:
    """GraphInputs fields for the job's steering (controls, regions, rest_mask) and the params to record."""
    refuse_unsupported(server, job)
    tag = uuid.uuid4().hex[:12]
    controls, recorded = upload_controls(server, job, preprocess or model_free_picture, tag)
    regions, rest = upload_regions(server, job, tag)
    return {"controls": controls, "regions": regions, "rest_mask": rest, "recorded_controls": recorded}
