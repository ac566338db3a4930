"""Startup: process start to the main window's first paint, and to "ready to generate".

Spawns `python main.py` with ATELIER_EXIT_AFTER=paint (or ready, with --model) under Qt's offscreen
platform; the app prints the epoch time of its first paint / finished model load and quits
(desktop/ui/startup_probe.py). The figure is that time minus the parent's time just before spawning,
so interpreter start, imports, window build and the first paint all count.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.figures import ROOT, Context, Figure, at_most, child_env, median

KEYS = ("startup_paint_s", "startup_ready_s")
# what a plain script pays for the same "ready": the imports and one from_pretrained of the folder
PLAIN_READY = (
    "import sys, time\n"
    "import torch, diffusers\n"
    "from diffusers import DiffusionPipeline\n"
    "DiffusionPipeline.from_pretrained(sys.argv[1], local_files_only=True, safety_checker=None,\n"
    "                                  requires_safety_checker=False)\n"
    "print('atelier-timing ready %f' % time.time())\n"
)


def spawn_once(exit_after: str, model: Path | None, home: Path, timeout: float = 180, plain: bool = False) -> float:
    command = [sys.executable, str(ROOT / "main.py")] + (["--model", str(model)] if model else [])
    if plain:
        command = [sys.executable, "-c", PLAIN_READY, str(model)]
    env = child_env(ATELIER_EXIT_AFTER=exit_after, ATELIER_HOME=str(home))
    start = time.time()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "atelier-timing":
            if parts[1] == "failed":
                raise RuntimeError(f"the app could not load {model}: {done.stderr.strip()[-300:]}")
            if parts[1] == exit_after:
                return float(parts[2]) - start
    raise RuntimeError(f"the app printed no {exit_after} time (exit {done.returncode}): {done.stderr.strip()[-300:]}")


def run(ctx: Context) -> dict:
    model = ctx.model("tiny-sd15")
    repeats = 3 if ctx.quick else 5
    readies, plains = [], []
    with tempfile.TemporaryDirectory(prefix="atelier-bench-home-") as home:
        spawn_once("paint", None, Path(home))  # warms the file cache so every timed run starts alike
        paints = [spawn_once("paint", model, Path(home)) for _ in range(repeats)]
        for _ in range(1 if ctx.quick else 3):  # alternating with the plain script: the machine is noisy
            readies.append(spawn_once("ready", model, Path(home)))
            plains.append(spawn_once("ready", model, Path(home), plain=True))
    how = (f"median of {repeats} runs of `python main.py --model tiny-sd15` (offscreen Qt, warm file cache): "
           "parent's time before spawning to the epoch time the app prints")
    return {
        "startup_paint_s": at_most(median(paints), 1.0, unit="s", samples=paints,
                                   how=how + " at the main window's first paint event"),
        "startup_ready_s": Figure(median(readies), unit="s", samples=readies, target="report; lower is better",
                                  how=how + " once the selected model is loaded on the worker (torch, diffusers "
                                  f"imported, pipeline loaded); a plain script importing diffusers and loading the "
                                  f"same folder took {median(plains):.2f} s alongside"),
        "startup_ready_plain_s": Figure(median(plains), unit="s", samples=plains, target="reference",
                                        how="`python -c 'import torch, diffusers; DiffusionPipeline.from_pretrained("
                                        "folder)'`: process start to loaded, alternating with the app runs"),
    }
