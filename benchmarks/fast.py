"""Fast mode: seconds from Generate to a finished 512 px picture, against plain diffusers, in one process.

The app side is the real window (offscreen) with a models folder holding what a Fast mode user gets
from the catalog: the Hyper-SD 2-step LoRA and the LCM-LoRA (random weights, the real ones' layers
and rank 64) and TAESD (its real size, random weights). Generate is pressed with Fast mode on; the
app picks the recipe (Hyper-SD: DDIM, 2 steps, guidance off, TAESD decode) and the time runs to the
picture on the canvas (saved PNG included). The LCM-LoRA recipe (4 steps, deep features reused every
2nd step) is timed too, as Fast mode runs it for a user who has only that LoRA. The plain side is what a diffusers user writes by
default: `pipe(prompt)` with 20 steps, Euler a, CFG 7 and the full VAE, on a thread, same weights.
Random weights make the time real and the picture meaningless, so the quality cost is stated as
step count, guidance and decoder, not measured as PSNR (that needs trained TAESD and VAE weights).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.figures import Context, Figure, at_least, in_thread, median, report_child, run_child

KEYS = ("fast_512_s", "fast_speedup", "fast_512_lcm_s", "fast_speedup_lcm")
PLAIN = dict(steps=20, scheduler="Euler a", guidance=7.0)


def addons_home(loras: list[str], taesd: str) -> Path:
    """An Atelier home whose models folder holds the few-step LoRAs and the TAESD (links, nothing copied)."""
    home = Path(tempfile.mkdtemp(prefix="atelier-bench-fast-"))
    (home / "models" / "loras").mkdir(parents=True)
    (home / "models" / "taesd").mkdir(parents=True)
    for lora in loras:
        os.symlink(lora, home / "models" / "loras" / Path(lora).name)
    os.symlink(taesd, home / "models" / "taesd" / "taesd")
    return home


def child(model: str, loras: list[str], taesd: str, size: int, repeats: int, plain_repeats: int) -> dict:
    import shutil

    from PySide6.QtCore import QObject, Slot

    from benchmarks.app_driver import AppDriver
    from benchmarks.generation import PROMPT, plain_call, plain_pipeline
    from desktop.core.fast_mode import FastModeChosen, choose
    from desktop.core.params import GenerationParams

    home = addons_home(loras, taesd)
    driver = AppDriver(Path(model), home=home)
    driver.wait_ready()

    class Said(QObject):
        """Keeps what Fast mode said it chose (on the GUI thread, as the panel gets it)."""

        lines: list = []

        @Slot(object)
        def on_message(self, message) -> None:
            if isinstance(message, FastModeChosen):
                self.lines.append(message.text)

    said = Said()
    driver.atelier.worker.message.connect(said.on_message)
    params = GenerationParams(prompt=PROMPT, width=size, height=size, seed=1, fast_mode=True, **PLAIN)
    entries = driver.atelier.prompt.addons
    out: dict = {"first_s": driver.generate(params).wall_s}  # the layouts converted once, the LoRA fused
    out["fast_s"] = [driver.generate(params).wall_s for _ in range(repeats)]
    out["said"] = said.lines[-1]
    out["chosen"] = choose(params, model, "SD 1.x", entries, "cpu").params.to_dict()
    # the LCM-LoRA recipe, as Fast mode runs it when that is the only few-step LoRA there is
    lcm = choose(params, model, "SD 1.x", [e for e in entries if "hyper" not in e.name.lower()], "cpu").params
    out["lcm_chosen"] = lcm.to_dict()
    driver.generate(lcm)  # untimed: the model reloaded (Hyper-SD unfused) and LCM-LoRA fused
    out["lcm_s"] = [driver.generate(lcm).wall_s for _ in range(repeats)]
    out["lcm_no_cache_s"] = driver.generate(lcm.replace(cache_interval=1)).wall_s  # what the cache saves
    plain_pipe = plain_pipeline(model)
    out["plain_s"] = []
    for _ in range(plain_repeats):
        start = time.perf_counter()
        in_thread(lambda: plain_call(plain_pipe, size, PLAIN["steps"], 1))
        out["plain_s"].append(time.perf_counter() - start)
    driver.close()
    shutil.rmtree(home, ignore_errors=True)
    return out


def _recipe(chosen: dict) -> str:
    return (f"{chosen['scheduler']} {chosen['steps']} steps, CFG {chosen['guidance']:g} (off), LoRA "
            f"{chosen['loras'][0][0]} fused, decoder {chosen['vae']}, full UNet every {chosen['cache_interval']} steps")


def run(ctx: Context) -> dict:
    from benchmarks.real_models import build_lcm_lora, build_taesd_size

    name, size = ("tiny-sd15", 256) if ctx.quick else ("sd15-size", 512)
    model = ctx.model(name)
    loras = []
    for index, file in enumerate(("lcm-lora-sdv1-5.safetensors", "Hyper-SD15-2steps-lora.safetensors")):
        path = ctx.work / f"{name}-fast-loras" / file
        if not path.exists():  # the published LoRAs' layers and rank (64), random weights
            build_lcm_lora(model, path, rank=4 if ctx.quick else 64, seed=index)
        loras.append(str(path))
    taesd = ctx.work / "taesd-size"
    if not (taesd / ".complete").exists():
        build_taesd_size(taesd)
        (taesd / ".complete").write_text("built by benchmarks\n")
    repeats, plain_repeats = (3, 3) if ctx.quick else (2, 1)
    r = run_child("fast", [str(model), ",".join(loras), str(taesd), str(size), str(repeats), str(plain_repeats)],
                  timeout=5400)
    what = "tiny SD1.5-layout model" if ctx.quick else "SD 1.5-size pipeline (random weights, published configs)"
    fast, lcm, plain = median(r["fast_s"]), median(r["lcm_s"]), median(r["plain_s"])
    plain_how = (f"plain diffusers pipe() ({PLAIN['steps']} steps, Euler a, CFG 7, full VAE, on a thread; "
                 f"{', '.join(f'{s:.0f}' for s in r['plain_s'])} s), same process, same weights")
    quality = ("quality cost, not measurable here with random weights (TAESD vs VAE PSNR needs trained weights): "
               "{steps} steps of a distilled LoRA instead of 20 Euler a steps, no CFG (the negative prompt is not used), "
               "TAESD instead of the VAE{cache}")
    return {
        "fast_512_s": Figure(fast, unit="s", samples=r["fast_s"], target="report; lower is better",
                             how=f"median of Generate pressed -> picture on the canvas (saved PNG included), Fast mode "
                             f"on, {size}x{size}, {what}, models folder with the catalog's Hyper-SD 2-step LoRA, "
                             f"LCM-LoRA and TAESD (random weights, their real layers and sizes); the app said: "
                             f"{r['said']}; recipe: {_recipe(r['chosen'])}. First generation after the load "
                             f"{r['first_s']:.0f} s (layouts converted and LoRA fused, once)"),
        "fast_speedup": at_least(plain / fast, 10, unit="x", samples=r["plain_s"] + r["fast_s"],
                                 how=f"{plain_how} / fast_512_s; " + quality.format(steps=2, cache="")),
        "fast_512_lcm_s": Figure(lcm, unit="s", samples=r["lcm_s"], target="report",
                                 how=f"as fast_512_s with only the LCM-LoRA installed: {_recipe(r['lcm_chosen'])}; "
                                 f"the same recipe without the feature cache: {r['lcm_no_cache_s']:.0f} s (one run)"),
        "fast_speedup_lcm": at_least(plain / lcm, 10, unit="x", samples=r["plain_s"] + r["lcm_s"],
                                     how=f"{plain_how} / fast_512_lcm_s; " +
                                     quality.format(steps=4, cache=", deep UNet features reused on every 2nd step")),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("loras")
    parser.add_argument("taesd")
    parser.add_argument("size", type=int)
    parser.add_argument("repeats", type=int)
    parser.add_argument("plain_repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.loras.split(","), a.taesd, a.size, a.repeats, a.plain_repeats))
