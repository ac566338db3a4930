"""A draft's latents on disk, and their decode with the model's full VAE (desktop/core/draft.py says why).

The latents are the pipeline's own output (output_type="latent": already multiplied by the VAE's
scaling factor), saved in float32 so that the final is the very image the full-VAE job would have made.
The full decode streams progress per decoder block and can be cancelled between blocks: at 512 px on a
CPU it is the ~24 s the draft saved.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

import torch

from desktop.core.atomic import write_bytes_atomic
from desktop.core.draft import DraftError, header_fields, latents_path
from desktop.core.messages import JobCancelled

LATENTS_KEY = "latents"
log = logging.getLogger(__name__)


def save_latents(path: str | Path, latents: torch.Tensor, fields: dict[str, str]) -> Path:
    """One image's latents (1, C, h, w) with the header fields; written whole or not at all."""
    from safetensors.torch import save

    data = save({LATENTS_KEY: latents.detach().to("cpu", torch.float32).contiguous().clone()}, metadata=fields)
    write_bytes_atomic(Path(path), data)
    return Path(path)


def load_latents(path: str | Path) -> torch.Tensor:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise DraftError(f"{Path(path).name} could not be read: {error}") from error
    latents = tensors.get(LATENTS_KEY)
    if latents is None or latents.ndim != 4:
        raise DraftError(f"{Path(path).name} holds no draft latents")
    return latents


def decode_full(pipe, latents: torch.Tensor, *, cancel: threading.Event | None = None,
                on_progress: Callable[[int, int], None] | None = None):
    """The pipeline's own VAE decodes `latents` into a PIL image; (image, note) where note says about an
    fp16 overflow fallback. Raises JobCancelled between decoder blocks when `cancel` is set."""
    from desktop.engine.placement import decode

    vae = pipe.vae
    if latents.shape[1] != vae.config.latent_channels:
        raise DraftError(f"these latents have {latents.shape[1]} channels; the model's VAE takes "
                         f"{vae.config.latent_channels}: they were made by another kind of model")
    cancel = cancel or threading.Event()
    blocks = [vae.decoder.mid_block, *vae.decoder.up_blocks]
    total = len(blocks) + 1  # each block, then the last convolution and the conversion to pixels
    done = [0]

    def before_block(_module, _inputs):
        if cancel.is_set():
            raise JobCancelled()

    def after_block(_module, _inputs, _output):
        done[0] += 1
        if on_progress is not None:
            on_progress(done[0], total)

    if on_progress is not None:
        on_progress(0, total)
    hooks = [block.register_forward_pre_hook(before_block) for block in blocks]
    hooks += [block.register_forward_hook(after_block) for block in blocks]
    try:
        with torch.inference_mode():
            images, note = decode(pipe, latents.to(device=pipe._execution_device))
    finally:
        for hook in hooks:
            hook.remove()
    if cancel.is_set():
        raise JobCancelled()
    if on_progress is not None:
        on_progress(total, total)
    return pipe.image_processor.postprocess(images.float(), output_type="pil")[0], note


def keep_draft_latents(engine, images: list, index: int, image_path: str, params) -> str:
    """After a draft is saved: its latents beside it. Returns a problem to report, or ""."""
    latents = engine.draft_latents
    if latents is None or not image_path or latents.shape[0] != len(images):
        return ""
    from desktop.core.pickle_files import file_sha256

    loaded = engine.loaded
    decoder = params.vae or (Path(engine.fast_decoder.folder).name if engine.fast_decoder else "TAESD")
    try:
        fields = header_fields(params, file_sha256(image_path), loaded.path, loaded.name, loaded.family, decoder)
        save_latents(latents_path(image_path), latents[index:index + 1], fields)
    except OSError as error:  # the draft itself is saved; only its finish will need a re-run
        log.warning("latents of %s not kept: %s", image_path, error)
        return f"the draft's latents could not be kept beside {Path(image_path).name} ({error.strerror or error}): " \
               "finishing it with the full VAE will need a re-run"
    return ""
