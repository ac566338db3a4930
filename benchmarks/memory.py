"""Peak memory: the app generating one image against a plain script doing the same, each in its own process.

Peak RSS is the kernel's high-water mark for the process (getrusage ru_maxrss), read by the child at
the end. The app child runs the real window offscreen, loads the model on the worker and generates
once; the plain child imports diffusers, loads the same folder and makes the same call.
"""

from __future__ import annotations

import argparse

from benchmarks.figures import Context, Figure, at_most, median, peak_rss_mb, report_child, run_child

KEYS = ("rss_ratio",)


def child(kind: str, model: str, size: int, steps: int) -> dict:
    if kind == "app":
        from benchmarks.app_driver import AppDriver
        from desktop.core.params import GenerationParams

        driver = AppDriver(model)
        driver.wait_ready()
        driver.generate(GenerationParams(prompt="a lighthouse", width=size, height=size, steps=steps, seed=1))
        driver.close()
    else:
        from benchmarks.generation import plain_call, plain_pipeline

        plain_call(plain_pipeline(model), size, steps, 1)
    return {"peak_rss_mb": peak_rss_mb()}


def run(ctx: Context) -> dict:
    size, steps, name = (256, 4, "tiny-sd15") if ctx.quick else (256, 2, "sd15-size")
    model = str(ctx.model(name))
    app, plain = [], []
    for _ in range(1):  # peak RSS barely varies between runs
        app.append(run_child("memory", ["app", model, str(size), str(steps)], timeout=1200)["peak_rss_mb"])
        plain.append(run_child("memory", ["plain", model, str(size), str(steps)], timeout=1200)["peak_rss_mb"])
    what = ("tiny SD1.5-layout model, so the fixed cost of Qt weighs far more than beside real weights"
            if ctx.quick else "SD 1.5-size pipeline (random weights, 4.3 GB fp32)")
    how = (f"peak RSS (ru_maxrss) of the app process (window offscreen, worker, one {size}x{size} {steps}-step "
           f"generation) / that of a plain diffusers script doing the same; {what}")
    return {
        "rss_ratio": at_most(median(app) / median(plain), 1.10, unit="x", samples=app + plain, how=how),
        "rss_app_mb": Figure(median(app), unit="MiB", how="peak RSS of the app run above", target="reference"),
        "rss_plain_mb": Figure(median(plain), unit="MiB", how="peak RSS of the plain script", target="reference"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("kind", choices=("app", "plain"))
    parser.add_argument("model")
    parser.add_argument("size", type=int)
    parser.add_argument("steps", type=int)
    a = parser.parse_args()
    report_child(child(a.kind, a.model, a.size, a.steps))
