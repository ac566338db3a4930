"""Upscale jobs on the model lane: progress per tile, cancel inside a tile, the upscaler kept for the next job."""

from __future__ import annotations

import time
from pathlib import Path

from desktop.core.messages import Progress, RgbImage, Status, UpscaleJob, UpscaleResult
from desktop.worker.lane import JobContext

UPSCALER_KEY = "upscaler"  # the last upscaler, kept loaded like the image model (by path and file hash)


def run_upscale(context: JobContext) -> None:
    from desktop.core.pickle_files import TrustList
    from desktop.core.upscalers import DEFAULT_OVERLAP
    from desktop.engine.tiling import tile_grid
    from desktop.engine.upscaler import load_upscaler, resolve_file, upscale_image

    job: UpscaleJob = context.job
    folders = [Path(p) for p in job.models_dirs]
    trust = TrustList(job.trust_file) if job.trust_file else None
    if job.trust_pickle and trust is not None:
        path = resolve_file(job.upscaler, folders)
        if path is not None:
            trust.trust(path)
    kept = context.resources.get(UPSCALER_KEY)
    if kept is None or kept[0] != job.upscaler:
        context.emit(Status(f"Loading upscaler {job.upscaler}…"))
        upscaler = load_upscaler(job.upscaler, folders, Path(job.cache_dir), trust=trust,
                                 say=lambda text: context.emit(Status(text)))
        context.resources[UPSCALER_KEY] = (job.upscaler, upscaler)
    else:
        upscaler = kept[1]
    image = job.image.to_pil()
    tiles = len(tile_grid(image.width, image.height, job.tile, DEFAULT_OVERLAP))
    start = time.perf_counter()
    context.emit(Progress(job.job_id, 0, tiles, 0.0))

    def on_tile(done: int, total: int) -> None:
        context.emit(Progress(job.job_id, done, total, time.perf_counter() - start))

    if job.refine is not None:  # tiled refine: the image model loads (or stays) on this lane too
        from desktop.engine.refine import upscale_and_refine
        from desktop.worker.image_jobs import _load

        engine = _load(context, job.model_path, job.family, job.refine_tile, job.refine_tile)
        result = upscale_and_refine(engine, upscaler, image, job.scale, job.refine, tile=job.tile,
                                    refine_tile=job.refine_tile, on_progress=on_tile, cancel=context.cancel)
    else:
        result = upscale_image(image, upscaler, job.scale, tile=job.tile, on_tile=on_tile, cancel=context.cancel)
    context.emit(UpscaleResult(job.job_id, RgbImage.from_pil(result), upscaler.name, upscaler.sha256, job.scale,
                               tiles, time.perf_counter() - start))


def upscale_handlers() -> dict:
    return {UpscaleJob: run_upscale}


def run_hires(context: JobContext, engine, params, addons, on_progress, on_preview, steering=None) -> list:
    """A GenerateJob with the hires fix on: both passes through desktop.engine.hires, upscaler found here."""
    from desktop.core.pickle_files import TrustList
    from desktop.engine.hires import generate_hires
    from desktop.engine.upscaler import load_upscaler

    job = context.job
    folders = [Path(p) for p in job.upscale_dirs]

    def load(name: str):
        trust = TrustList(job.trust_file) if job.trust_file else None  # pickles the user allowed, per file
        return load_upscaler(name, folders, Path(job.cache_dir), trust=trust,
                             say=lambda text: context.emit(Status(text)))

    return generate_hires(engine, params, load_upscaler=load, on_progress=on_progress, on_preview=on_preview,
                          cancel=context.cancel, addons=addons, on_status=lambda text: context.emit(Status(text)),
                          steering=steering)
