"""Hires fix: txt2img at the model's native size, upscale, then img2img to the target size, as one job.

Drives ImageEngine.generate twice (it is not a pipeline of its own): the first pass makes the
composition at the size the model was trained for, the second adds detail at the larger size, where
a direct txt2img would repeat subjects. The upscale between them is one of
  - "Latent": the first pass's latents resized bilinearly, never decoded (A1111's "Latent");
  - "Lanczos" / "Bicubic" / "Nearest": the decoded picture resized;
  - an upscaler (built-in Real-ESRGAN or the artist's own): the decoded picture through the network.
Progress is one bar over both passes and the upscale (steps + tiles + steps); previews come from both
passes. The recorded params are the job's own, hires fields included (A1111's `Hires upscale:` ...).
"""

from __future__ import annotations

import math
import threading
from typing import Callable

import torch

from desktop.core.messages import JobCancelled
from desktop.core.params import GenerationParams, hires_size
from desktop.core.upscalers import LATENT, PLAIN_RESAMPLERS

ProgressFn = Callable[[int, int], None]
UpscalerLoader = Callable[[str], object]  # name -> LoadedUpscaler


def at_least_one_step(steps: int, strength: float) -> int:
    """img2img steps so that diffusers runs int(steps * strength) >= 1 (0 would fail inside the pipeline)."""
    return max(steps, math.ceil(1 / strength - 1e-9))


def second_pass_steps(params: GenerationParams) -> int:
    """The img2img steps diffusers will run: int(steps * strength), at least 1."""
    steps = at_least_one_step(params.hires_steps or params.steps, params.hires_strength)
    return max(1, min(int(steps * params.hires_strength), steps))


class OneBar:
    """Maps each phase's own (done, total) onto one progress bar over the whole job."""

    def __init__(self, report: ProgressFn | None, phases: list[int]) -> None:
        self.report, self.phases, self.phase = report, list(phases), 0

    def start(self, phase: int) -> None:
        self.phase = phase

    def __call__(self, done: int, total: int) -> None:
        self.phases[self.phase] = total  # a phase may know its real length only once it runs
        if self.report is not None:
            self.report(sum(self.phases[:self.phase]) + done, sum(self.phases))

    @property
    def total(self) -> int:
        return sum(self.phases)


def generate_hires(engine, params: GenerationParams, *, load_upscaler: UpscalerLoader | None = None,
                   on_progress: ProgressFn | None = None, on_preview=None, cancel: threading.Event | None = None,
                   addons=(), on_status=None, tile: int = 192, steering=None) -> list:
    """PIL images at hires_size(params); raises JobCancelled, ValueError/UpscaleError with what to do.

    steering: control/reference/region pixels (desktop.engine.steering) for the first pass, which has the
    canvas area's size; the second pass refines the upscaled picture without them.
    """
    cancel = cancel or threading.Event()
    upscaler_name = params.hires_upscaler or LATENT
    width, height = hires_size(params)
    first = params.replace(hires_scale=0.0)
    second = params.replace(hires_scale=0.0, mode="img2img", width=width, height=height,
                            strength=params.hires_strength,
                            steps=at_least_one_step(params.hires_steps or params.steps, params.hires_strength))
    upscaler = None
    if upscaler_name != LATENT and upscaler_name not in PLAIN_RESAMPLERS:
        if load_upscaler is None:
            raise ValueError(f"hires upscaler {upscaler_name!r} needs an upscaler loader")
        upscaler = load_upscaler(upscaler_name)  # fails now, before minutes of the first pass
    results = []
    for index in range(params.batch_size):
        one_first = first.replace(seed=first.seed + index, batch_size=1)
        one_second = second.replace(seed=second.seed + index, batch_size=1)
        bar = OneBar(on_progress, [first.steps, 1, second_pass_steps(params)])
        previews = _offset_previews(on_preview, bar)
        as_latents = upscaler_name == LATENT
        out = engine.generate(one_first, on_progress=bar, on_preview=previews, cancel=cancel, addons=addons,
                              on_status=on_status, output_type="latent" if as_latents else "pil", steering=steering)
        if cancel.is_set():
            raise JobCancelled()
        bar.start(1)
        if as_latents:
            init = torch.nn.functional.interpolate(out.float(), size=(height // 8, width // 8),
                                                   mode="bilinear").to(out.dtype)
            bar(1, 1)
        elif upscaler is None:
            from PIL import Image

            init = out[0].resize((width, height), getattr(Image.Resampling, upscaler_name.upper()))
            bar(1, 1)
        else:
            init = _network_upscale(out[0], upscaler, width, height, tile, bar, cancel)
        bar.start(2)
        results += engine.generate(one_second, on_progress=bar, on_preview=previews, cancel=cancel,
                                   init_image=init, addons=addons, on_status=on_status)
    return results


def _network_upscale(image, upscaler, width: int, height: int, tile: int, bar: OneBar, cancel):
    from PIL import Image

    from desktop.engine.upscaler import upscale_image

    scale = max(2, min(4, -(-width // image.width)))  # the smallest whole factor that reaches the target
    big = upscale_image(image, upscaler, scale, tile=tile, on_tile=bar, cancel=cancel)
    return big.resize((width, height), Image.Resampling.LANCZOS)


def _offset_previews(on_preview, bar: OneBar):
    if on_preview is None:
        return None

    def preview(step: int, image) -> None:
        on_preview(sum(bar.phases[:bar.phase]) + step, image)

    return preview
