"""Drafts on the model lane: keep a TAESD draft's latents beside it, and finish one with the full VAE.

The finish job loads the draft's model if another one is loaded (the panel says "Loading …", Cancel
works), decodes the saved latents with that model's own VAE (progress per decoder block, cancel between
blocks) and saves the final as a new output whose metadata names the draft it came from.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from desktop.core.draft import FinishJob, finishable, finished_params, finished_record, latents_path
from desktop.core.messages import ImageResult, Progress, RgbImage, Status
from desktop.worker.lane import JobContext

def make_finish_handler(outputs_dir: Callable[[], Path]):
    """A handler that writes each final into the folder `outputs_dir()` names at that time."""

    def run_finish(context: JobContext) -> None:
        from desktop.core.outputs import SaveError, save_generation
        from desktop.engine.draft_latents import decode_full, load_latents
        from desktop.worker.image_jobs import _load

        job: FinishJob = context.job
        draft = Path(job.draft_path)
        info = finishable(draft, job.model_path)
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
        extra = finished_record(info, draft.name)
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
