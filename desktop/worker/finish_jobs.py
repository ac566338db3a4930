"""Drafts on the model lane: keep a TAESD draft's latents beside it, and finish one with the full VAE.

The finish job loads the draft's model if another one is loaded (the panel says "Loading …", Cancel
works), decodes the saved latents with that model's own VAE (progress per decoder block, cancel between
blocks) and saves the final as a new output whose metadata names the draft it came from.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from desktop.core.draft import DraftError, FinishJob, draft_info, finished_params, header_fields, latents_path
from desktop.core.messages import ImageResult, Progress, RgbImage, Status
from desktop.worker.lane import JobContext

log = logging.getLogger(__name__)


def keep_draft_latents(engine, images: list, index: int, image_path: str, params) -> str:
    """After a draft is saved: its latents beside it. Returns a problem to report, or ""."""
    latents = engine.draft_latents
    if latents is None or not image_path or latents.shape[0] != len(images):
        return ""
    from desktop.core.pickle_files import file_sha256
    from desktop.engine.draft_latents import save_latents

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


def make_finish_handler(outputs_dir: Callable[[], Path]):
    """A handler that writes each final into the folder `outputs_dir()` names at that time."""

    def run_finish(context: JobContext) -> None:
        from desktop.core.outputs import SaveError, save_generation
        from desktop.core.pickle_files import file_sha256
        from desktop.engine.draft_latents import decode_full, load_latents
        from desktop.worker.image_jobs import _load

        job: FinishJob = context.job
        draft = Path(job.draft_path)
        if not draft.is_file():
            raise DraftError(f"the draft {draft.name} is gone from {draft.parent}: re-run it with the same seed")
        info = draft_info(draft)
        if info.image_sha256 and file_sha256(draft) != info.image_sha256:
            raise DraftError(f"{draft.name} was changed since it was made, so its saved latents no longer match it: "
                             "re-run it with the same seed and the full VAE instead")
        if not Path(info.model_path).exists():
            raise DraftError(f"the model that made {draft.name} ({info.model_name}) is no longer at "
                             f"{info.model_path}: install it again to finish this draft")
        latents = load_latents(latents_path(draft))
        engine = _load(context, info.model_path, info.family, info.params.width, info.params.height)
        context.emit(Status(f"Decoding {draft.name} with {info.model_name}'s full VAE…"))
        start = time.perf_counter()

        def on_progress(done: int, total: int) -> None:
            context.emit(Progress(job.job_id, done, total, time.perf_counter() - start))

        image, note = decode_full(engine.base_pipe, latents, cancel=context.cancel, on_progress=on_progress)
        if note:
            context.emit(Status(note))
        seconds = time.perf_counter() - start
        params = finished_params(info.params, draft.name)
        extra = {"finished_from": draft.name, "draft_sha256": info.image_sha256, "draft_decoder": info.decoder,
                 "decoder": "full VAE"}
        path, error = "", ""
        try:
            key_dir = Path(job.c2pa_key_dir) if job.c2pa_key_dir else None
            path = str(save_generation(image, params, outputs_dir(), model_name=info.model_name, seconds=seconds,
                                       extra=extra, c2pa_key_dir=key_dir))
        except SaveError as failure:
            error = str(failure)
        context.emit(ImageResult(job.job_id, RgbImage.from_pil(image), params, 0, seconds, path, error))

    return run_finish


def finish_handlers(outputs_dir: Callable[[], Path]) -> dict:
    return {FinishJob: make_finish_handler(outputs_dir)}
