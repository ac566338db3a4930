"""Drafts and finals: a Fast mode draft (TAESD), its finish with the full VAE, and Fast mode with the full VAE.

In one process, the real window (offscreen), alternating per round: Generate with Fast mode on (Hyper-SD
2 steps, TAESD decode: the draft), then Image > Finish with Full VAE on that draft (the lane decodes its
saved latents with the model's VAE; the final on the canvas and saved), then the same recipe decoded by
the full VAE from the start. Ratios, not absolute times, are what this shared machine can compare:
  finish_cost_ratio    = finish / draft: what a final costs, in drafts
  finish_vs_full_ratio = (draft + finish) / full-VAE job: draft-then-finish against deciding up front
  draft_vs_full_ratio  = draft / full-VAE job: what TAESD saves on every draft
The quality cost of a TAESD draft (TAESD vs VAE PSNR) needs trained weights: none are on this machine
and none ship in a package we can use, so it is not measured (benchmarks/RESULTS.md says so).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from benchmarks.figures import Context, Figure, median, report_child, run_child

KEYS = ("finish_512_s", "finish_cost_ratio", "finish_vs_full_ratio", "draft_vs_full_ratio", "finish_decode_s")


def child(model: str, lora: str, taesd: str, size: int, repeats: int) -> dict:
    from benchmarks.app_driver import AppDriver, RunTimes
    from benchmarks.fast import PLAIN, addons_home
    from benchmarks.generation import PROMPT
    from desktop.core.fast_mode import choose
    from desktop.core.params import GenerationParams

    home = addons_home([lora], taesd)
    driver = AppDriver(Path(model), home=home)
    driver.wait_ready()
    params = GenerationParams(prompt=PROMPT, width=size, height=size, seed=1, fast_mode=True, **PLAIN)
    driver.generate(params)  # untimed: layouts converted, the LoRA fused
    full = choose(params, model, "SD 1.x", driver.atelier.prompt.addons, "cpu").params.replace(vae="")

    def finish() -> float:
        driver.run = RunTimes(pressed=time.perf_counter())
        driver.atelier.finish.action.trigger()  # Image > Finish with Full VAE, on the latest draft
        driver.wait(lambda: driver.run.done > 0, 900)
        run, driver.run = driver.run, None
        if not run.result:
            raise RuntimeError(f"the finish made no picture: {driver.failure}")
        return run.wall_s

    lane: list = []  # ImageResult.seconds: the lane's own time (steps and decode; a finish: its decode)
    driver.atelier.controller.image_ready.connect(lambda result: lane.append(result.seconds))
    out: dict = {key: [] for key in ("draft_s", "finish_s", "full_s", "draft_lane_s", "finish_lane_s", "full_lane_s")}
    for index in range(repeats):
        out["draft_s"].append(driver.generate(params).wall_s)
        out["draft_lane_s"].append(lane[-1])
        jobs = [("finish_s", finish), ("full_s", lambda: driver.generate(full).wall_s)]
        for key, job in (jobs if index % 2 == 0 else jobs[::-1]):  # order flipped each round
            out[key].append(job())
            out[key.replace("_s", "_lane_s")].append(lane[-1])
    driver.close()
    shutil.rmtree(home, ignore_errors=True)
    return out


def run(ctx: Context) -> dict:
    from benchmarks.real_models import build_lcm_lora, build_taesd_size

    name, size = ("tiny-sd15", 256) if ctx.quick else ("sd15-size", 512)
    model = ctx.model(name)
    lora = ctx.work / f"{name}-fast-loras" / "Hyper-SD15-2steps-lora.safetensors"
    if not lora.exists():
        build_lcm_lora(model, lora, rank=4 if ctx.quick else 64, seed=1)
    taesd = ctx.work / "taesd-size"
    if not (taesd / ".complete").exists():
        build_taesd_size(taesd)
        (taesd / ".complete").write_text("built by benchmarks\n")
    repeats = 3
    r = run_child("finish", [str(model), str(lora), str(taesd), str(size), str(repeats)], timeout=3600)
    draft, finish, full = median(r["draft_s"]), median(r["finish_s"]), median(r["full_s"])
    what = f"{size}x{size}, {'tiny SD1.5-layout model' if ctx.quick else 'SD 1.5-size pipeline (random weights)'}"
    times = "; ".join(f"{k} {', '.join(f'{v:.1f}' for v in r[k])} s" for k in
                      ("draft_s", "finish_s", "full_s", "draft_lane_s", "finish_lane_s", "full_lane_s"))
    vae = median(r["finish_lane_s"])  # the full VAE decode alone, timed on the lane
    taesd_share = (median(r["full_lane_s"]) - median(r["draft_lane_s"])) / vae  # (VAE - TAESD) / VAE
    return {
        "finish_512_s": Figure(finish, unit="s", samples=r["finish_s"], target="report",
                               how=f"Image > Finish with Full VAE pressed -> the final on the canvas (saved PNG "
                               f"included), the model loaded, {what}; {times}"),
        "finish_cost_ratio": Figure(finish / draft, unit="x", target="report",
                                    how="finish / draft (Fast mode: Hyper-SD 2 steps, TAESD), medians, same run"),
        "finish_vs_full_ratio": Figure((draft + finish) / full, unit="x", target="report; ~1 is free",
                                       how="(draft + finish) / the same recipe decoded with the full VAE from the "
                                       "start: what choosing after the draft costs, medians, same run"),
        "draft_vs_full_ratio": Figure(draft / full, unit="x", target="report",
                                      how="draft (TAESD) / the same recipe with the full VAE: what TAESD saves on "
                                      "every draft"),
        "finish_decode_s": Figure(vae, unit="s", samples=r["finish_lane_s"], target="report",
                                  how="the finish's full VAE decode alone (lane time, ImageResult.seconds); "
                                  f"(full-VAE job - draft) / this = {taesd_share:.2f}, i.e. TAESD costs about "
                                  f"{max(0.0, 1 - taesd_share):.2f} of the VAE's time, lane medians"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("lora")
    parser.add_argument("taesd")
    parser.add_argument("size", type=int)
    parser.add_argument("repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.lora, a.taesd, a.size, a.repeats))
