"""Fast mode: seconds from Generate to a finished 512 px picture, against plain diffusers, in one process.

The app side is the real window (offscreen) with a models folder holding what a Fast mode user has
from the catalog: an LCM-LoRA (random weights, the real one's layers and rank 64) and TAESD (its real
size, random weights). Generate is pressed with Fast mode on; the app picks the recipe (LCM, 4 steps,
guidance off, TAESD decode, deep features reused every 2nd step on a CPU) and the time runs to the
picture on the canvas (saved PNG included). The plain side is what a diffusers user writes by
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

KEYS = ("fast_512_s", "fast_speedup")
PLAIN = dict(steps=20, scheduler="Euler a", guidance=7.0)


def addons_home(lora: str, taesd: str) -> Path:
    """An Atelier home whose models folder holds the LCM-LoRA and the TAESD (links, nothing copied)."""
    home = Path(tempfile.mkdtemp(prefix="atelier-bench-fast-"))
    (home / "models" / "loras").mkdir(parents=True)
    (home / "models" / "taesd").mkdir(parents=True)
    os.symlink(lora, home / "models" / "loras" / "lcm-lora-sdv1-5.safetensors")
    os.symlink(taesd, home / "models" / "taesd" / "taesd")
    return home


def child(model: str, lora: str, taesd: str, size: int, repeats: int, plain_repeats: int) -> dict:
    from PySide6.QtCore import QObject, Slot

    from benchmarks.app_driver import AppDriver
    from benchmarks.generation import PROMPT, plain_call, plain_pipeline
    from desktop.core.messages import Status
    from desktop.core.params import GenerationParams

    home = addons_home(lora, taesd)
    driver = AppDriver(Path(model), home=home)
    driver.wait_ready()

    class Said(QObject):
        """Keeps the status lines Fast mode says (on the GUI thread, as the status bar gets them)."""

        lines: list = []

        @Slot(object)
        def on_message(self, message) -> None:
            if isinstance(message, Status) and message.text.startswith("Fast mode"):
                self.lines.append(message.text)

    said = Said()
    driver.atelier.worker.message.connect(said.on_message)
    params = GenerationParams(prompt=PROMPT, width=size, height=size, seed=1, fast_mode=True, **PLAIN)
    first = driver.generate(params).wall_s  # converts the layouts once (channels_last on first use)
    fast = [driver.generate(params).wall_s for _ in range(repeats)]
    # the same recipe with every UNet pass in full: what the feature cache saves
    from desktop.core.fast_mode import choose

    entries = driver.atelier.window.prompt_panel.addon_entries()
    chosen = choose(params, model, "SD 1.x", entries, "cpu").params
    no_cache = driver.generate(chosen.replace(cache_interval=1)).wall_s
    plain_pipe = plain_pipeline(model)
    plain = []
    for _ in range(plain_repeats):
        start = time.perf_counter()
        in_thread(lambda: plain_call(plain_pipe, size, PLAIN["steps"], 1))
        plain.append(time.perf_counter() - start)
    driver.close()
    import shutil

    shutil.rmtree(home, ignore_errors=True)
    return {"fast_s": fast, "first_s": first, "no_cache_s": no_cache, "plain_s": plain, "said": said.lines[-1:],
            "chosen": chosen.to_dict()}


def run(ctx: Context) -> dict:
    from benchmarks.real_models import build_lcm_lora, build_taesd_size

    name, size = ("tiny-sd15", 256) if ctx.quick else ("sd15-size", 512)
    model = ctx.model(name)
    lora = ctx.work / f"{name}-lcm-lora" / "lcm-lora-sdv1-5.safetensors"
    if not lora.exists():
        build_lcm_lora(model, lora, rank=4 if ctx.quick else 64)
    taesd = ctx.work / "taesd-size"
    if not (taesd / ".complete").exists():
        build_taesd_size(taesd)
        (taesd / ".complete").write_text("built by benchmarks\n")
    repeats, plain_repeats = (3, 3) if ctx.quick else (2, 1)
    r = run_child("fast", [str(model), str(lora), str(taesd), str(size), str(repeats), str(plain_repeats)],
                  timeout=5400)
    chosen = r["chosen"]
    what = "tiny SD1.5-layout model" if ctx.quick else "SD 1.5-size pipeline (random weights, published configs)"
    recipe = (f"{chosen['scheduler']} {chosen['steps']} steps, CFG {chosen['guidance']:g} (off), LoRA "
              f"{chosen['loras']}, decoder {chosen['vae']}, full UNet every {chosen['cache_interval']} steps")
    fast, plain = median(r["fast_s"]), median(r["plain_s"])
    quality = (f"quality cost: {chosen['steps']} LCM steps instead of 20 Euler a steps, no CFG (the negative prompt "
               "is not used), TAESD instead of the VAE (TAESD vs VAE PSNR not measurable with random weights), "
               "deep UNet features reused on every 2nd step")
    return {
        "fast_512_s": Figure(fast, unit="s", samples=r["fast_s"], target="report; lower is better",
                             how=f"median of Generate pressed -> picture on the canvas (saved PNG included), Fast mode "
                             f"on, {size}x{size}, {what}; the app said: {' '.join(r['said'])}; recipe: {recipe}. "
                             f"First generation after the load {r['first_s']:.1f} s (layout conversion, once); "
                             f"same recipe without the feature cache {r['no_cache_s']:.1f} s"),
        "fast_speedup": at_least(plain / fast, 10, unit="x", samples=r["plain_s"] + r["fast_s"],
                                 how=f"plain diffusers pipe() ({PLAIN['steps']} steps, Euler a, CFG 7, full VAE, on a "
                                 f"thread; median {plain:.1f} s of {len(r['plain_s'])}) / fast_512_s, same process, "
                                 f"same weights; {quality}"),
        "fast_no_cache_s": Figure(r["no_cache_s"], unit="s", target="reference",
                                  how="the chosen recipe with cache_interval 1 (every UNet pass in full), one run"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("lora")
    parser.add_argument("taesd")
    parser.add_argument("size", type=int)
    parser.add_argument("repeats", type=int)
    parser.add_argument("plain_repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.lora, a.taesd, a.size, a.repeats, a.plain_repeats))
