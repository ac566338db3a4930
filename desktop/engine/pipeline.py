"""Stable Diffusion image generation: load a local pipeline once, run it with previews and cancel.

One ImageEngine lives on the worker thread. It keeps the loaded pipeline (and the img2img /
inpaint variants that share its modules) for the next job and frees it when another model is
chosen. Cancel works by raising from the step callback: it returns within one step, skips the VAE
decode, and the pipeline stays usable (facts.md).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from desktop.core.messages import JobCancelled, RgbImage
from desktop.core.models import SDXL, check_diffusers_folder, diffusers_family
from desktop.core.params import GenerationParams
from desktop.engine.cpu_tuning import tune_pipeline
from desktop.engine.device import describe, pick_device
from desktop.engine.preview import latents_to_rgb
from desktop.engine.schedulers import make_scheduler

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
PreviewFn = Callable[[int, RgbImage], None]


class ModelLoadError(RuntimeError):
    """A model folder could not be loaded; the message names the folder and what to do."""


@dataclass(frozen=True)
class LoadedModel:
    """What is loaded now, for the status bar."""

    path: str
    family: str
    device: str
    dtype: str
    seconds: float

    @property
    def summary(self) -> str:
        return f"{Path(self.path).name} ({self.family}) on {self.device}, loaded in {self.seconds:.1f} s"


def load_pipeline(folder: str | Path, device: str, dtype: torch.dtype):
    """The one loading path for a diffusers folder: local files only, progress bars off."""
    from diffusers import DiffusionPipeline

    quiet_libraries()
    folder = Path(folder)
    problem = check_diffusers_folder(folder)
    if problem:
        raise ModelLoadError(problem)
    extra = {} if diffusers_family(folder) == SDXL else {"safety_checker": None, "requires_safety_checker": False}
    try:
        pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True, dtype=dtype, **extra)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise ModelLoadError(f"could not load the model in {folder}: {error}") from error
    pipe.set_progress_bar_config(disable=True)
    return pipe if device == "cpu" else pipe.to(device)


def quiet_libraries() -> None:
    """Loading bars and chatty warnings belong in a terminal, not in the app's output."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


class ImageEngine:
    """Owns the loaded image pipeline and turns GenerationParams into images."""

    def __init__(self, device: str | None = None, dtype: torch.dtype | None = None, channels_last: bool = True) -> None:
        picked_device, picked_dtype = pick_device()
        self.device = device or picked_device
        self.dtype = dtype or picked_dtype
        # CPU: NHWC convolutions measured 15% faster per UNet step at 512 px (benchmarks/RESULTS.md)
        self.channels_last = channels_last
        self.fast_decoder = None  # a FastDecoder (TAESD) for the final decode, when chosen
        self.loaded: LoadedModel | None = None
        self._pipes: dict[str, object] = {}
        self._base_scheduler_config = None

    # ------------------------------------------------------------------ loading
    def load(self, folder: str | Path, family: str = "") -> LoadedModel:
        folder = str(Path(folder).resolve())
        if self.loaded and self.loaded.path == folder:
            return self.loaded
        self.unload()
        start = time.perf_counter()
        pipe = load_pipeline(folder, self.device, self.dtype)
        tune_pipeline(pipe, self.device, self.channels_last)
        self._pipes = {"txt2img": pipe}
        self._base_scheduler_config = pipe.scheduler.config
        self.loaded = LoadedModel(folder, family or diffusers_family(Path(folder)), describe(self.device, self.dtype),
                                  str(self.dtype).replace("torch.", ""), time.perf_counter() - start)
        # Long-lived objects out of the collector's way: a full collection of them stalls the GUI
        # thread for ~200 ms (facts.md).
        gc.collect()
        gc.freeze()
        return self.loaded

    def unload(self) -> None:
        if not self._pipes:
            return
        self._pipes.clear()
        self.loaded = None
        gc.unfreeze()
        gc.collect()
        # What survives is long-lived (modules, classes): freeze it again, so that the next load's
        # collection scans only that model's new objects (~0.2 s saved per load, benchmarks/RESULTS.md).
        gc.freeze()
        if self.device == "cuda":
            torch.cuda.empty_cache()

    def set_fast_decode(self, folder: str | Path | None) -> None:
        """Decode final images with the TAESD in `folder` (None: the model's own VAE)."""
        if folder is None:
            self.fast_decoder = None
        elif self.fast_decoder is None or self.fast_decoder.folder != str(folder):
            from desktop.engine.fast_decode import FastDecoder

            self.fast_decoder = FastDecoder(folder, self.device, self.dtype)

    def _pipe_for(self, mode: str):
        if mode in self._pipes:
            return self._pipes[mode]
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

        base = self._pipes["txt2img"]
        factory = AutoPipelineForImage2Image if mode == "img2img" else AutoPipelineForInpainting
        pipe = factory.from_pipe(base)  # shares the modules: no extra memory (~0.1 s)
        pipe.set_progress_bar_config(disable=True)
        self._pipes[mode] = pipe
        return pipe

    # ------------------------------------------------------------------ generation
    def generate(
        self,
        params: GenerationParams,
        *,
        on_progress: ProgressFn | None = None,
        on_preview: PreviewFn | None = None,
        cancel: threading.Event | None = None,
        init_image=None,
        mask=None,
    ) -> list:
        """Run one job; returns PIL images. Raises JobCancelled when `cancel` is set mid-run."""
        if self.loaded is None:
            raise ModelLoadError("no model is loaded: choose a model first")
        mode = "inpaint" if params.mode in ("inpaint", "outpaint") else params.mode
        pipe = self._pipe_for(mode)
        pipe.scheduler = make_scheduler(params.scheduler, self._base_scheduler_config)
        family = self.loaded.family
        cancel = cancel or threading.Event()

        def on_step_end(pipeline, step, _timestep, kwargs):
            if cancel.is_set():
                raise JobCancelled()
            total = getattr(pipeline, "num_timesteps", None) or params.steps
            if on_preview is not None and "latents" in kwargs:
                on_preview(step + 1, latents_to_rgb(kwargs["latents"], family))
            if on_progress is not None:
                on_progress(step + 1, total)
            return kwargs

        if cancel.is_set():
            raise JobCancelled()
        generators = [torch.Generator("cpu").manual_seed(params.seed + i) for i in range(params.batch_size)]
        call = dict(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt or None,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            num_images_per_prompt=params.batch_size,
            generator=generators,
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
            output_type="pil",
        )
        if mode == "txt2img":
            call.update(width=params.width, height=params.height)
        else:
            if init_image is None:
                raise ValueError(f"{params.mode} needs a source image")
            call.update(image=init_image.convert("RGB").resize((params.width, params.height)), strength=params.strength)
            if mode == "inpaint":
                if mask is None:
                    raise ValueError("inpaint needs a mask: paint where the image should change")
                call.update(mask_image=mask.convert("L").resize((params.width, params.height)),
                            width=params.width, height=params.height)
        if self.fast_decoder is not None:
            call["output_type"] = "latent"  # the pipeline skips its VAE; TAESD decodes below
        with torch.inference_mode():
            result = pipe(**call)
        if self.fast_decoder is not None:
            return self.fast_decoder.decode(pipe, result.images)
        return list(result.images)
