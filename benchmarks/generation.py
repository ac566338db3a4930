"""Generation overhead: the app's path (window, worker, previews, saving) against a plain diffusers call.

One fresh process holds both: the real Atelier (offscreen) with the model selected, and a plain
`DiffusionPipeline.from_pretrained` of the same folder. Runs alternate app / plain, same prompt,
size, steps, sampler and seed, several rounds; figures are ratios of medians.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import (
    Context, Figure, at_most, in_thread, median, ratio_of_medians, report_child, run_child, side_by_side,
)

KEYS = ("overhead_ratio", "first_preview_s", "preview_share", "load_ratio")
PROMPT = "a lighthouse in a storm, oil painting"


def plain_pipeline(folder: str):
    import torch
    from diffusers import DiffusionPipeline, EulerAncestralDiscreteScheduler

    pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True, dtype=torch.float32,
                                             safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)
    return pipe


def plain_call(pipe, size: int, steps: int, seed: int, on_step=None):
    import torch

    extra = {"callback_on_step_end": on_step} if on_step else {}
    with torch.inference_mode():
        return pipe(PROMPT, num_inference_steps=steps, guidance_scale=7.0, width=size, height=size,
                    generator=[torch.Generator("cpu").manual_seed(seed)], output_type="pil", **extra).images


def step_seconds(pipe, size: int, steps: int) -> float:
    """Median time between step callbacks of a plain call (the step time without any app in it)."""
    stamps = []

    def on_step(_pipe, _step, _timestep, kwargs):
        stamps.append(time.perf_counter())
        return kwargs

    plain_call(pipe, size, steps, 1, on_step)
    return median([b - a for a, b in zip(stamps, stamps[1:])])


def preview_costs(driver, family: str, size: int, repeats: int = 20) -> tuple[float, float]:
    """Engine side (latents to RGB bytes) and GUI side (to QImage, onto the canvas) of one preview."""
    import torch

    from desktop.engine.preview import latents_to_rgb
    from desktop.ui.qimage import to_qimage

    latents = torch.randn(2, 4, size // 8, size // 8)
    engine, gui = [], []
    canvas = driver.atelier.window.canvas
    for _ in range(repeats):
        start = time.perf_counter()
        image = latents_to_rgb(latents, family)
        middle = time.perf_counter()
        canvas.set_preview(to_qimage(image))
        canvas.repaint()  # the paint the preview causes, done now so it is timed
        end = time.perf_counter()
        engine.append(middle - start)
        gui.append(end - middle)
    canvas.clear_preview()
    return median(engine), median(gui)


def unet_step_512(pipe) -> float:
    """One UNet call at 512 px with guidance (batch 2), as the sampler makes it."""
    import torch

    unet = pipe.unet
    latents = torch.randn(2, unet.config.in_channels, 64, 64)
    context = torch.randn(2, 77, unet.config.cross_attention_dim)
    with torch.inference_mode():
        unet(latents, 500, encoder_hidden_states=context)
        return median([_timed_unet(unet, latents, context) for _ in range(2)])


def _timed_unet(unet, latents, context) -> float:
    start = time.perf_counter()
    unet(latents, 500, encoder_hidden_states=context)
    return time.perf_counter() - start


def child(model: str, size: int, steps: int, repeats: int, step_512: float) -> dict:
    from benchmarks.app_driver import AppDriver
    from desktop.core.params import GenerationParams

    driver = AppDriver(model)
    driver.wait_ready()
    pipe = plain_pipeline(model)
    params = GenerationParams(prompt=PROMPT, width=size, height=size, steps=steps, guidance=7.0,
                              scheduler="Euler a", seed=1)
    plain_call(pipe, size, steps, 1)  # warm both paths once, untimed
    driver.generate(params)
    runs = []

    def app() -> float:
        runs.append(driver.generate(params))
        return runs[-1].wall_s

    def plain() -> float:
        start = time.perf_counter()
        in_thread(lambda: plain_call(pipe, size, steps, 1))
        return time.perf_counter() - start

    app_times, plain_times = side_by_side(app, plain, repeats)
    step = in_thread(lambda: step_seconds(pipe, size, steps))
    # the app's own step time, seen on the canvas: the gap between consecutive previews
    app_step = median([b - a for r in runs for a, b in zip(r.previews, r.previews[1:])])
    first_preview = median([r.previews[0] - r.pressed for r in runs if r.previews]) - app_step
    engine_box = driver.atelier.worker.resources["image_engine"]
    engine_preview, gui_preview = preview_costs(driver, engine_box.loaded.family, 512)
    step_512 = step_512 or in_thread(lambda: unet_step_512(pipe))
    entry = driver.atelier.prompt.selected_model

    def app_load() -> float:
        engine_box.unload()  # the lane is idle: nothing else touches the engine now
        driver.ready_at = None
        start = time.perf_counter()
        driver.atelier.preload(entry)
        driver.wait_ready()
        return driver.ready_at - start

    def plain_load() -> float:
        start = time.perf_counter()
        in_thread(lambda: plain_pipeline(model))
        return time.perf_counter() - start

    load_app, load_plain = side_by_side(app_load, plain_load, repeats)
    driver.close()
    return {"app_s": app_times, "plain_s": plain_times, "step_s": step, "app_step_s": app_step,
            "first_preview_s": first_preview, "to_started_s": median([r.started - r.pressed for r in runs]),
            "first_preview_raw_s": [r.previews[0] - r.pressed for r in runs if r.previews],
            "preview_engine_s": engine_preview, "preview_gui_s": gui_preview, "step_512_s": step_512,
            "load_app_s": load_app, "load_plain_s": load_plain}


def run(ctx: Context) -> dict:
    # full mode: the SD 1.5-size pipeline (random weights) at 256 px, 3 steps: real weights and
    # real step times, while a round stays under a minute on 2 cores
    size, steps, name = (256, 8, "tiny-sd15") if ctx.quick else (256, 3, "sd15-size")
    repeats = ctx.repeats if ctx.quick else 3
    step_512 = ctx.shared.get("unet_step_s_512_default") or 0.0
    model = ctx.model(name)
    r = run_child("generation", [str(model), str(size), str(steps), str(repeats), str(step_512)], timeout=1800)
    what = "tiny SD1.5-layout model" if ctx.quick else "SD 1.5-size pipeline (random weights, published configs)"
    where = f"{what}, {size}x{size}, {steps} steps, Euler a, CFG 7, {repeats} alternating rounds"
    preview = r["preview_engine_s"] + r["preview_gui_s"]
    step_what = "the real-size SD1.5 UNet step at 512 px measured by the unet section" if step_512 else \
        "the tiny model's UNet step at 512 px with CFG"
    return {
        "overhead_ratio": at_most(ratio_of_medians(r["app_s"], r["plain_s"]), 1.03, unit="x",
                                  samples=r["app_s"] + r["plain_s"],
                                  how=f"median of Generate pressed -> image on the canvas (saved PNG included) / median "
                                  f"of a plain pipe() call on a plain thread; {where}"),
        "first_preview_s": at_most(r["first_preview_s"], 0.05, unit="s",
                                   how=f"median of Generate pressed -> first preview drawn on the canvas, minus one step "
                                   f"(median gap between the app's previews, {r['app_step_s'] * 1000:.0f} ms); {where}"),
        "preview_share": at_most(preview / r["step_512_s"], 0.02, unit="x",
                                 how=f"one preview at 512 px: latents->RGB on the worker "
                                 f"({r['preview_engine_s'] * 1000:.2f} ms) + QImage and canvas paint on the GUI thread "
                                 f"({r['preview_gui_s'] * 1000:.2f} ms), divided by {step_what} "
                                 f"({r['step_512_s']:.2f} s)"),
        "load_ratio": at_most(ratio_of_medians(r["load_app_s"], r["load_plain_s"]), 1.05, unit="x",
                              samples=r["load_app_s"] + r["load_plain_s"],
                              how="median of the app's load (LoadModelJob on the worker -> 'Loaded' status on the GUI "
                              "thread) / median of a plain DiffusionPipeline.from_pretrained, same folder, alternating, "
                              f"warm file cache, modules already imported; {where}"),
        "plain_step_s": Figure(r["step_s"], unit="s", how=f"median plain step time; {where}", target="reference"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("size", type=int)
    parser.add_argument("steps", type=int)
    parser.add_argument("repeats", type=int)
    parser.add_argument("step_512", type=float)
    a = parser.parse_args()
    report_child(child(a.model, a.size, a.steps, a.repeats, a.step_512))
