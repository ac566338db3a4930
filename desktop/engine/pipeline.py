"""Stable Diffusion image generation: load a local pipeline once, run it with previews and cancel.

One ImageEngine lives on the worker thread. It keeps the loaded pipeline (and the img2img /
inpaint variants that share its modules) for the next job and frees it when another model is
chosen. Cancel works by raising from the step callback: it returns within one step, skips the VAE
decode, and the pipeline stays usable (facts.md).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from desktop.core.checkpoint_files import CheckpointError, inspect_file
from desktop.core.memory import MemoryPlan
from desktop.core.messages import JobCancelled, RgbImage
from desktop.core.models import SDXL, ModelEntry, check_diffusers_folder, diffusers_family, weights_variant
from desktop.core.params import GenerationParams
from desktop.engine.addons import Addons, addons_applied, resolve_addons
from desktop.engine.cpu_tuning import apply_memory_format, tune_pipeline
from desktop.engine.device import describe, pick_device
from desktop.engine.fast_recipe import FusedLora, call_options, recipe_applied, scheduler_for
from desktop.engine.placement import decode, make_plan, place, torch_dtype
from desktop.engine.preview import latents_to_rgb
from desktop.engine.steering import SteeringInputs, SteeringModels, SteeringPlan

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
PreviewFn = Callable[[int, RgbImage], None]
StatusFn = Callable[[str], None]
OFFLOAD_WORDS = {"none": "no offload", "model": "model CPU offload", "sequential": "sequential CPU offload"}


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
    strategy: str = "no offload"  # how the weights are placed (OFFLOAD_WORDS)
    reason: str = ""  # why this device, dtype and strategy: the memory plan's sentence

    @property
    def summary(self) -> str:
        return f"{self.name} ({self.family}) on {self.device}, loaded in {self.seconds:.1f} s"

    @property
    def name(self) -> str:
        """What the model is called: a folder's name, a checkpoint file's name without .safetensors."""
        path = Path(self.path)
        return path.stem if path.suffix == ".safetensors" else path.name

    @property
    def placement(self) -> str:
        """Device, dtype and strategy in a few words, for the status bar's permanent label."""
        return f"{self.device}, {self.strategy}"


def load_pipeline(folder: str | Path, device: str, dtype: torch.dtype):
    """The one loading path for a diffusers folder: local files only, progress bars off."""
    from diffusers import DiffusionPipeline

    quiet_libraries()
    folder = Path(folder)
    problem = check_diffusers_folder(folder)
    if problem:
        raise ModelLoadError(problem)
    extra = {} if diffusers_family(folder) == SDXL else {"safety_checker": None, "requires_safety_checker": False}
    variant = weights_variant(folder)
    if variant:  # fp16 files (half the download): loaded at `dtype`, i.e. upcast to fp32 on a CPU
        extra["variant"] = variant
    try:
        pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True, dtype=dtype, **extra)
    except Exception as error:  # noqa: BLE001 - a damaged folder raises anything (SafetensorError, RecursionError)
        raise ModelLoadError(f"could not load the model in {folder}: {' '.join(str(error).split())[:300]}") \
            from error
    pipe.set_progress_bar_config(disable=True)
    return pipe if device == "cpu" else pipe.to(device)


def load_checkpoint_file(path: str | Path, family: str, dtype: torch.dtype):
    """The loading path for one .safetensors checkpoint: the shipped config skeletons, never the network."""
    from desktop.engine.single_file import load_single_file

    quiet_libraries()
    try:
        return load_single_file(path, family or None, torch_dtype=dtype, device="cpu")
    except CheckpointError as error:
        raise ModelLoadError(str(error)) from error


def model_family(path: Path) -> str:
    """SD 1.x / SD 2.x / SDXL of a diffusers folder (its configs) or a checkpoint file (its tensors)."""
    if not path.is_file():
        return diffusers_family(path)
    try:
        return inspect_file(path).family
    except CheckpointError as error:
        raise ModelLoadError(str(error)) from error


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
        self._dtype_chosen = dtype is not None  # a caller's dtype wins over the memory plan's
        # CPU: NHWC convolutions measured 15% faster per UNet step at 512 px (benchmarks/RESULTS.md)
        self.channels_last = channels_last
        self.fast_decoder = None  # a FastDecoder (TAESD) for the final decode, when chosen
        self.loaded: LoadedModel | None = None
        self._pipes: dict[str, object] = {}
        self._base_scheduler_config = None
        self._vae: tuple[str, object] | None = None  # the custom VAE last used (path, module), kept for the next image
        self.fused_lora = FusedLora()  # Fast mode: the recipe's LoRA merged into the weights while it is asked for
        self.steering = SteeringModels(self._tune)  # ControlNets, depth and IP-Adapter models kept for the next image

    # ------------------------------------------------------------------ loading
    def plan(self, path: str | Path, family: str, width: int = 512, height: int = 512) -> tuple[MemoryPlan | None, str]:
        """The memory plan for this model at this size here, and the sentence that says why."""
        try:
            memory_plan = make_plan(path, family, width, height, self.device)
        except (CheckpointError, OSError) as error:  # .bin-only weights, unreadable files: load as before
            return None, f"{describe(self.device, self.dtype)}: memory need not estimated ({error})"
        return memory_plan, memory_plan.reason

    def load(self, folder: str | Path, family: str = "", width: int = 512, height: int = 512) -> LoadedModel:
        """Load a diffusers folder or a single .safetensors checkpoint, placed the way the memory plan says."""
        path = Path(folder).resolve()
        folder = str(path)
        if self.loaded and self.loaded.path == folder:
            return self.loaded
        self.unload()
        start = time.perf_counter()
        family = family or model_family(path)
        memory_plan, reason = self.plan(path, family, width, height)
        dtype = self.dtype if self._dtype_chosen or memory_plan is None else torch_dtype(memory_plan)
        pipe = load_checkpoint_file(path, family, dtype) if path.is_file() else load_pipeline(path, "cpu", dtype)
        if memory_plan is None:
            pipe = pipe if self.device == "cpu" else pipe.to(self.device)
        else:
            place(pipe, memory_plan)
        tune_pipeline(pipe, self.device, self.channels_last)
        self._pipes = {"txt2img": pipe}
        self._base_scheduler_config = pipe.scheduler.config
        strategy = OFFLOAD_WORDS[memory_plan.offload] if memory_plan else OFFLOAD_WORDS["none"]
        self.loaded = LoadedModel(folder, family, describe(self.device, dtype), str(dtype).replace("torch.", ""),
                                  time.perf_counter() - start, strategy, reason)
        # Long-lived objects out of the collector's way: a full collection of them stalls the GUI
        # thread for ~200 ms (facts.md).
        gc.collect()
        gc.freeze()
        return self.loaded

    def unload(self) -> None:
        if not self._pipes:
            return
        self.fused_lora.key = None  # a fused LoRA goes with the weights it was merged into
        self._pipes.clear()
        self._vae = None
        self.steering.clear()
        self.loaded = None
        gc.unfreeze()
        gc.collect()
        # What survives is long-lived (modules, classes): freeze it again, so that the next load's
        # collection scans only that model's new objects (~0.2 s saved per load, benchmarks/RESULTS.md).
        gc.freeze()
        if self.device == "cuda":
            torch.cuda.empty_cache()

    def reload(self) -> None:
        """Load the model again from its files: the weights exactly as they are on disk."""
        if self.loaded is not None:
            path, family = self.loaded.path, self.loaded.family
            self.unload()
            self.load(path, family)

    @property
    def base_pipe(self):
        """The text-to-image pipeline; the img2img and inpaint ones share its modules."""
        return self._pipes["txt2img"]

    def _tune(self, module):
        """A module added to the loaded pipeline (a ControlNet) in the layout the UNet runs in on the CPU."""
        if self.device == "cpu":
            apply_memory_format(module, self.channels_last)
        return module

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

    def _load_vae(self, entry: ModelEntry):
        """A custom VAE or TAESD, loaded once and kept while this model is loaded."""
        if self._vae is None or self._vae[0] != entry.path:
            from desktop.engine.vae import load_vae

            self._vae = None
            vae = load_vae(entry.path, self.loaded.family)
            if self.device == "cpu":
                apply_memory_format(vae, self.channels_last)
            self._vae = (entry.path, vae)
        return self._vae[1]

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
        addons: Addons | Sequence[ModelEntry] = (),
        on_status: StatusFn | None = None,
        output_type: str = "pil",
        steering: SteeringInputs | None = None,
    ) -> list:
        """Run one job; returns PIL images. Raises JobCancelled when `cancel` is set mid-run.

        output_type="latent" returns the latents tensor undecoded, and a latents tensor given as
        init_image is used as it is (img2img): the hires fix's latent upscale (desktop.engine.hires).

        addons: the LoRA/VAE/TAESD files the user has (to resolve params.loras, `<lora:...>` tags and
        params.vae by name), or an Addons already resolved. LoraError / CheckpointError say what is wrong.
        steering: the images of params.controls / references / regions and the models they name
        (desktop/engine/steering.py); a missing or wrong-family model raises SteeringModelError (a ValueError).
        """
        if self.loaded is None:
            raise ModelLoadError("no model is loaded: choose a model first")
        if not isinstance(addons, Addons):
            addons = resolve_addons(params, addons)
        addons = self.fused_lora.prepare(self, params, addons)  # Fast mode: its LoRA fused, kept for the next one
        mode = "inpaint" if params.mode in ("inpaint", "outpaint") else params.mode
        plan = SteeringPlan.make(self.steering, self._pipes["txt2img"], self.loaded.family, params, mode, steering,
                                 mask if mode == "inpaint" else None)
        pipe = plan.pipe or self._pipe_for(mode)
        pipe.scheduler = scheduler_for(params, self._base_scheduler_config)  # a Fast mode recipe's spacing too
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
            prompt=addons.prompt,  # without its <lora:...> tags
            negative_prompt=params.negative_prompt or None,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            num_images_per_prompt=params.batch_size,
            generator=generators,
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
            output_type="pil",
            **call_options(params),
        )
        if mode == "txt2img":
            call.update(width=params.width, height=params.height)
        else:
            if init_image is None:
                raise ValueError(f"{params.mode} needs a source image")
            image = init_image if isinstance(init_image, torch.Tensor) else \
                init_image.convert("RGB").resize((params.width, params.height))
            call.update(image=image, strength=params.strength)
            if mode == "inpaint":
                if mask is None:
                    raise ValueError("inpaint needs a mask: paint where the image should change")
                call.update(mask_image=mask.convert("L").resize((params.width, params.height)),
                            width=params.width, height=params.height)
        fast = self.fast_decoder is not None and addons.vae is None  # a VAE the user picked wins
        # LoRA and IP-Adapter layers are created outside inference mode: they are parameters, removed afterwards
        with addons_applied(pipe, addons, self._load_vae), recipe_applied(pipe, params), \
                plan.loaded(pipe, self.steering, family) as references, contextlib.ExitStack() as regions, \
                torch.inference_mode():
            call.update(references)
            call.update(plan.arguments(pipe, addons.prompt, params.negative_prompt, regions))
            for key in ("prompt", "negative_prompt"):
                if key in call and call[key] is None:
                    del call[key]  # replaced by the A1111-style embeddings
            # an fp16 VAE can overflow to NaN (a black image): decode here, with the fp32 fallback
            half_vae = not fast and pipe.vae.dtype == torch.float16
            if fast or half_vae or output_type == "latent":
                call["output_type"] = "latent"  # the pipeline skips its VAE; it is decoded below
            result = pipe(**call)
            if output_type == "latent":
                return result.images
            if half_vae:
                images, note = decode(pipe, result.images)
                if note and on_status is not None:
                    on_status(note)
                return pipe.image_processor.postprocess(images, output_type="pil")
        if fast:
            return self.fast_decoder.decode(pipe, result.images)
        return list(result.images)
