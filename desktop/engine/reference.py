"""Reference images through IP-Adapters the user has: the adapter file and a CLIP image encoder folder, local.

An adapter is loaded into the pipeline for one generation (`load_ip_adapter` from its tensors, the image
encoder set beforehand so nothing is fetched) and unloaded afterwards, so the next image without a reference
comes from the model exactly as loaded. Weight is the adapter's scale; "style" gives the reference to the
style block only (InstantStyle: the middle attention of the first up block with attentions); "face" needs a
face adapter (ip-adapter-plus-face, ip-adapter-full-face). FaceID adapters need insightface: refused.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Iterator, Sequence

from desktop.core.models import IMAGE_ENCODER, IP_ADAPTER, UNKNOWN, ModelEntry
from desktop.core.steering import ReferenceSpec
from desktop.engine.control import SteeringModelError, find_entry, pipeline_family


class ReferenceModels:
    """Adapter tensors and image encoders read once and kept while the image model is loaded."""

    def __init__(self) -> None:
        self._adapters: dict[str, dict] = {}
        self._encoders: dict[str, object] = {}

    def clear(self) -> None:
        self._adapters.clear()
        self._encoders.clear()

    def adapter(self, entry: ModelEntry) -> dict:
        if entry.path not in self._adapters:
            from safetensors import safe_open

            tensors = {"image_proj": {}, "ip_adapter": {}}
            with safe_open(entry.path, framework="pt", device="cpu") as handle:
                for key in handle.keys():
                    part, _, rest = key.partition(".")
                    if part in tensors:
                        tensors[part][rest] = handle.get_tensor(key)
            self._adapters[entry.path] = tensors
        return self._adapters[entry.path]

    def encoder(self, entry: ModelEntry, dtype, device):
        if entry.path not in self._encoders:
            from transformers import CLIPVisionModelWithProjection

            self._encoders = {entry.path: CLIPVisionModelWithProjection.from_pretrained(
                entry.path, local_files_only=True, dtype=dtype).to(device).eval()}
        return self._encoders[entry.path]


def embedding_width(tensors: dict) -> tuple[int, bool]:
    """(width of what the adapter reads from the image encoder, whether that is its hidden states)."""
    proj = tensors["image_proj"]
    if "proj.weight" in proj:
        return proj["proj.weight"].shape[1], False  # the encoder's image_embeds
    if "proj.0.weight" in proj:
        return proj["proj.0.weight"].shape[1], True  # full-face: hidden states
    if "proj_in.weight" in proj:
        return proj["proj_in.weight"].shape[1], True  # plus: hidden states
    raise SteeringModelError("this IP-Adapter's image projection is of a kind Atelier does not know")


def _encoder_width(entry: ModelEntry, hidden: bool) -> int | None:
    try:
        config = json.loads((Path(entry.path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    config = config.get("vision_config", config)
    return config.get("hidden_size" if hidden else "projection_dim")


def pick_encoder(adapter: ModelEntry, tensors: dict, entries: Sequence[ModelEntry]) -> ModelEntry:
    """The image encoder whose output the adapter reads: the same width, the nearest folder first."""
    width, hidden = embedding_width(tensors)
    fitting = [e for e in entries if e.kind == IMAGE_ENCODER and e.usable and _encoder_width(e, hidden) == width]
    if not fitting:
        what = "hidden states" if hidden else "image embeddings"
        raise SteeringModelError(
            f"the IP-Adapter {adapter.name!r} reads {width}-wide {what} of a CLIP image encoder, and no image encoder "
            "of that width is installed: put its folder (CLIPVisionModelWithProjection, e.g. ViT-H for SD 1.5 "
            "adapters) in models/ipadapter/image_encoder or models/clip_vision")
    home = Path(adapter.path).parent
    fitting.sort(key=lambda e: (home not in Path(e.path).parents, e.path))
    return fitting[0]


def style_scale(unet, weight: float) -> dict:
    """InstantStyle: the reference acts on the style attention only (SDXL: up block 0, its middle layer)."""
    for index, block in enumerate(unet.up_blocks):
        if hasattr(block, "attentions"):
            count = len(block.attentions)
            scales = [0.0] * count
            scales[1 if count > 1 else 0] = float(weight)
            return {"up": {f"block_{index}": scales}}
    raise SteeringModelError("this model has no attention layers a style reference could act on")


def check_adapter(spec: ReferenceSpec, entry: ModelEntry, tensors: dict, pipe, loaded_family: str) -> None:
    family = loaded_family or pipeline_family(pipe)
    if entry.family != UNKNOWN and family != UNKNOWN and entry.family != family:
        raise SteeringModelError(f"IP-Adapter {entry.name!r} was made for {entry.family} models; the loaded model is "
                                 f"{family}. Pick a {family} adapter")
    key = tensors["ip_adapter"].get("1.to_k_ip.weight")
    if key is not None and key.shape[1] != pipe.unet.config.cross_attention_dim:
        raise SteeringModelError(f"IP-Adapter {entry.name!r} does not fit the loaded model: it was made for "
                                 f"{key.shape[1]}-wide text features, the model's are {pipe.unet.config.cross_attention_dim}")
    if spec.mode == "face" and "face" not in entry.name.lower():
        raise SteeringModelError(f"the face variant needs a face IP-Adapter (ip-adapter-plus-face or "
                                 f"ip-adapter-full-face); {entry.name!r} is not one")


@contextlib.contextmanager
def references_applied(pipe, specs: Sequence[ReferenceSpec], images: Sequence, entries: Sequence[ModelEntry],
                       models: ReferenceModels, loaded_family: str) -> Iterator[dict]:
    """Load the adapters for one call; yields the call's `ip_adapter_image` argument. Unloaded afterwards."""
    if not specs:
        yield {}
        return
    adapters = [find_entry(s.model, entries, (IP_ADAPTER,), "IP-Adapter", "ipadapter") for s in specs]
    tensors = [models.adapter(entry) for entry in adapters]
    for spec, entry, state in zip(specs, adapters, tensors):
        check_adapter(spec, entry, state, pipe, loaded_family)
    encoders = {pick_encoder(entry, state, entries).path: entry for entry, state in zip(adapters, tensors)}
    if len(encoders) > 1:
        raise SteeringModelError("these reference adapters read different image encoders; use adapters of one kind "
                                 "together (all ViT-H, or all ViT-bigG)")
    encoder_entry = pick_encoder(adapters[0], tensors[0], entries)
    encoder = models.encoder(encoder_entry, pipe.unet.dtype, pipe._execution_device)
    previous_extractor = getattr(pipe, "feature_extractor", None)
    pipe.register_modules(image_encoder=encoder)
    if previous_extractor is not None and previous_extractor.crop_size.get("height") != encoder.config.image_size:
        pipe.register_modules(feature_extractor=None)  # made again for this encoder's size by load_ip_adapter
    try:
        pipe.load_ip_adapter(tensors, subfolder=[""] * len(tensors), weight_name=[""] * len(tensors),
                             image_encoder_folder=None)
        pipe.set_ip_adapter_scale([style_scale(pipe.unet, s.weight) if s.mode == "style" else float(s.weight)
                                   for s in specs])
        yield {"ip_adapter_image": [image.convert("RGB") for image in images]}
    finally:
        pipe.unload_ip_adapter()
        pipe.register_modules(image_encoder=None, feature_extractor=previous_extractor)
