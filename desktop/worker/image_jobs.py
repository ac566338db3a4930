"""Image jobs on the model lane: load the model, generate with progress and previews, save the PNGs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from desktop.core.messages import (GenerateJob, ImageResult, JobCancelled, LoadModelJob, Loading, PreprocessJob,
                                   PreprocessResult, Preview, Progress, RgbImage, Status)
from desktop.worker.lane import JobContext

ENGINE_KEY = "image_engine"


def image_engine(context: JobContext):
    """The lane's one ImageEngine, created (and torch imported) on first use, on the lane thread."""
    engine = context.resources.get(ENGINE_KEY)
    if engine is None:
        from desktop.worker.engine_import import import_engine_modules

        import_engine_modules()  # torch and diffusers without stalling the window (engine_import.py)
        from desktop.engine.pipeline import ImageEngine

        engine = context.resources[ENGINE_KEY] = ImageEngine(channels_last=context.resources.get("channels_last", True))
    return engine


def _load(context: JobContext, model_path: str, family: str, width: int = 512, height: int = 512):
    engine = image_engine(context)
    loaded = engine.loaded
    if loaded is None or loaded.path != str(Path(model_path).resolve()):
        text = f"Loading {Path(model_path).name}…"
        context.emit(Loading(context.job.job_id, text))  # the job's own state: the panel shows it, Cancel works
        context.emit(Status(text))
        loaded = engine.load(model_path, family, width, height)
        # the permanent label says device, dtype and strategy; the message says why (the memory plan)
        context.emit(Status(f"Loaded {loaded.name} ({loaded.family}) in {loaded.seconds:.1f} s. {loaded.reason}",
                            device=loaded.placement,
                            model=loaded.name))
        if context.cancel.is_set():  # cancelled while loading: the model stays loaded for the next job
            raise JobCancelled()
    return engine


def run_load(context: JobContext) -> None:
    job: LoadModelJob = context.job
    _load(context, job.model_path, job.family, job.width, job.height)


def make_generate_handler(outputs_dir: Callable[[], Path]):
    """A handler that saves every finished image into the folder `outputs_dir()` names at that time."""

    def run_generate(context: JobContext) -> None:
        job: GenerateJob = context.job
        engine = _load(context, job.model_path, job.family, job.params.width, job.params.height)
        from desktop.engine.addons import resolve_addons

        params = _fast_params(context, engine, job) if job.params.fast_mode else job.params
        addons = resolve_addons(params, job.addons)  # a LoRA or VAE that is not there fails here, by name
        _choose_decoder(context, engine, job)
        start = time.perf_counter()

        def on_progress(step: int, total: int) -> None:
            context.emit(Progress(job.job_id, step, total, time.perf_counter() - start))

        def on_preview(step: int, image: RgbImage) -> None:
            context.emit(Preview(job.job_id, step, image))

        context.emit(Progress(job.job_id, 0, params.steps, 0.0))
        init = job.init_image.to_pil() if job.init_image is not None else None
        mask = None
        if job.mask is not None and init is not None:
            from PIL import Image

            mask = Image.frombytes("L", (init.width, init.height), job.mask)
        if params.hires_scale:  # hires fix: both passes and the upscale as this one job
            from desktop.worker.upscale_jobs import run_hires

            images = run_hires(context, engine, params, addons, on_progress, on_preview, steering=_steering(job))
        else:
            images = engine.generate(params, on_progress=on_progress, on_preview=on_preview,
                                     cancel=context.cancel, init_image=init, mask=mask, addons=addons,
                                     on_status=lambda text: context.emit(Status(text)), steering=_steering(job))
        seconds = time.perf_counter() - start
        model_name = engine.loaded.name
        recorded = addons.recorded  # the LoRAs and prompt as they ran, for the image's metadata
        record_extra: dict = {}
        if params.hires_scale:  # the upscaler's name and hash (A1111 text and Atelier's record)
            from desktop.core.hires_record import with_upscaler
            from desktop.worker.upscale_jobs import hires_upscaler_hash

            recorded, record_extra = with_upscaler(recorded, params.hires_upscaler,
                                                   hires_upscaler_hash(context, params.hires_upscaler))
        for index, image in enumerate(images):
            params = recorded.replace(seed=recorded.seed + index) if index else recorded
            saved = _as_seen(job, image)  # inpaint/outpaint: the picture on the canvas, not the raw frame
            path, error = _save(saved, params, outputs_dir(), model_name, seconds, job.c2pa_key_dir, record_extra) \
                if job.keep else ("", "")
            if path and engine.draft_latents is not None:  # a TAESD draft: its latents beside it, for the full VAE
                from desktop.engine.draft_latents import keep_draft_latents

                problem = keep_draft_latents(engine, images, index, path, params)
                if problem:
                    context.emit(Status(problem))
            context.emit(ImageResult(job.job_id, RgbImage.from_pil(image), params, index, seconds, path, error))

    return run_generate


def _as_seen(job: GenerateJob, image):
    """What the person sees of a result: inpaint/outpaint frames composited over the source through the mask."""
    if job.params.mode not in ("inpaint", "outpaint") or job.init_image is None or job.mask is None:
        return image
    import numpy as np
    from PIL import Image

    from desktop.core.canvas_inputs import composite_result

    source = np.frombuffer(job.init_image.data, np.uint8).reshape(job.init_image.height, job.init_image.width, 3)
    mask = np.frombuffer(job.mask, np.uint8).reshape(job.init_image.height, job.init_image.width)
    return Image.fromarray(composite_result(job.params.mode, source, mask, np.asarray(image.convert("RGB"))))


def _fast_params(context: JobContext, engine, job: GenerateJob):
    """Fast mode: the recipe for this model, the user's LoRAs and TAESDs and the engine's device; said in the status."""
    from desktop.core.fast_mode import FastModeChosen, choose

    choice = choose(job.params, job.model_path, engine.loaded.family, job.addons, engine.device)
    context.emit(FastModeChosen(job.job_id, choice.sentence))  # the panel's Fast mode line
    context.emit(Status(choice.sentence))  # and the status bar
    return choice.params


def _steering(job: GenerateJob):
    """The job's control, reference and region pixels as the engine takes them (None when it has none)."""
    if not (job.control_images or job.reference_images or job.region_masks):
        return None
    from desktop.engine.steering import steering_inputs

    return steering_inputs(controls=[image.to_pil() for image in job.control_images],
                           references=[image.to_pil() for image in job.reference_images],
                           regions=[mask.to_pil() for mask in job.region_masks], models=job.addons)


def run_preprocess(context: JobContext) -> None:
    """A control layer's picture, as its ControlNet will read it (for the layer dialog's preview)."""
    import numpy as np

    from desktop.engine.control_images import control_picture, fit
    from desktop.engine.steering import control_rgba

    job: PreprocessJob = context.job
    engine = image_engine(context)
    rgba = control_rgba(job.image.to_pil(), job.width, job.height)
    mask = np.asarray(fit(job.mask.to_pil(), job.width, job.height)) if job.mask is not None else None
    picture = control_picture(job.spec, rgba, mask, job.models, engine.steering.depth)
    shown = np.ascontiguousarray(picture.preview())
    context.emit(PreprocessResult(job.job_id, RgbImage(shown.shape[1], shown.shape[0], shown.tobytes()), job.tag))


def _choose_decoder(context: JobContext, engine, job: GenerateJob) -> None:
    """TAESD for the final decode when the job asks for it and the user has one for this family."""
    from desktop.core.models import pick_taesd

    taesd = pick_taesd(job.addons, engine.loaded.family) if job.fast_decode else None
    if job.fast_decode and taesd is None:
        context.emit(Status("Fast decode is on, but no TAESD for this model family is installed (models/taesd/): "
                            "using the full VAE"))
    engine.set_fast_decode(taesd.path if taesd else None)


def _save(image, params, folder: Path, model_name: str, seconds: float, c2pa_key_dir: str = "",
          extra: dict | None = None) -> tuple[str, str]:
    """Save with metadata; a failure (full disk, no permission) is reported, and the image kept."""
    from desktop.core.outputs import save_generation

    try:
        key_dir = Path(c2pa_key_dir) if c2pa_key_dir else None
        return str(save_generation(image, params, folder, model_name=model_name, seconds=seconds,
                                   c2pa_key_dir=key_dir, extra=extra)), ""
    except OSError as error:
        return "", f"could not save the image in {folder}: {error.strerror or error}. It is kept on the canvas."


def image_handlers(outputs_dir: Callable[[], Path]) -> dict:
    from desktop.worker.finish_jobs import finish_handlers  # Finish with Full VAE: a draft's latents decoded

    return {GenerateJob: make_generate_handler(outputs_dir), LoadModelJob: run_load, PreprocessJob: run_preprocess,
            **finish_handlers(outputs_dir)}
