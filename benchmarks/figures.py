"""What every benchmark section shares: the Figure record, timing helpers, the machine, child runs.

A figure is one number with its unit, its target, whether the target is met, and a sentence saying
how it was measured. Ratios are measured side by side in one run, alternating app and plain, and
reported as medians: the machine is shared and noisy.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CHILD_MARK = "ATELIER-BENCH-RESULT "


@dataclass
class Figure:
    """One measured number with its unit, target and the way it was measured."""

    value: float | None
    unit: str = ""
    how: str = ""
    target: str = ""
    met: bool | None = None
    samples: list = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        if data["value"] is not None:
            data["value"] = round(float(data["value"]), 6)
        data["samples"] = [round(float(s), 6) for s in self.samples]
        return data


def missing(reason: str, target: str = "") -> Figure:
    """A figure that could not be measured here; the reason says why."""
    return Figure(None, how=reason, target=target)


def at_most(value: float | None, limit: float, **kwargs) -> Figure:
    met = None if value is None else value <= limit
    return Figure(value, target=f"<= {limit:g}", met=met, **kwargs)


def at_least(value: float | None, limit: float, **kwargs) -> Figure:
    met = None if value is None else value >= limit
    return Figure(value, target=f">= {limit:g}", met=met, **kwargs)


@dataclass
class Context:
    """What sections get: the mode, where to keep built models, and results earlier sections left."""

    quick: bool = True
    repeats: int = 3
    work: Path = RESULTS / "models"
    shared: dict = field(default_factory=dict)  # e.g. the UNet step time, for preview_share

    def model(self, name: str) -> Path:
        """A model folder (tiny, or "sd15-size": real size, random weights), built once and kept."""
        from benchmarks.real_models import build_chat_small, build_sd15_size
        from desktop.engine import tiny_models

        builders = {"tiny-sd15": tiny_models.build_sd15, "tiny-taesd": tiny_models.build_taesd,
                    "tiny-chat": tiny_models.build_chat_lm, "sd15-size": build_sd15_size,
                    "chat-small": build_chat_small}
        folder = self.work / name
        if not (folder / ".complete").exists():
            folder.mkdir(parents=True, exist_ok=True)
            if name == "sd15-size":  # 4 GB of weights: build in a child so this process stays small
                code = f"from benchmarks.real_models import build_sd15_size; build_sd15_size({str(folder)!r})"
                subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), check=True,
                               capture_output=True, timeout=1800)
            else:
                builders[name](folder)
            (folder / ".complete").write_text("built by benchmarks\n")
        return folder


def median(values) -> float:
    return float(statistics.median(values))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(app: Callable[[], float], plain: Callable[[], float], repeats: int) -> tuple[list, list]:
    """Run app and plain alternately (starting order flipped each round); each returns its seconds."""
    app_times, plain_times = [], []
    for round_index in range(repeats):
        order = (app, plain) if round_index % 2 == 0 else (plain, app)
        for fn in order:
            (app_times if fn is app else plain_times).append(fn())
    return app_times, plain_times


def ratio_of_medians(app_times: list, plain_times: list) -> float:
    return median(app_times) / median(plain_times)


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def run_child(module: str, args: list[str], timeout: float = 600, **env: str) -> dict:
    """Run `python -m benchmarks.<module> --child ARGS` in a fresh process; it prints one result line."""
    command = [sys.executable, "-m", f"benchmarks.{module}", "--child", *args]
    done = subprocess.run(command, cwd=ROOT, env=child_env(**env), capture_output=True, text=True, timeout=timeout)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(CHILD_MARK):
            return json.loads(line[len(CHILD_MARK):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    raise RuntimeError(f"benchmarks.{module} child failed (exit {done.returncode}): " + " | ".join(tail))


def report_child(result: dict) -> None:
    print(CHILD_MARK + json.dumps(result), flush=True)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def machine() -> dict:
    """The machine the numbers came from: CPU model, cores, flags that matter, RAM, library versions."""
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and "cpu_model" not in info:
                info["cpu_model"] = value.strip()
            elif key == "cpu MHz" and "cpu_mhz" not in info:
                info["cpu_mhz"] = float(value)
            elif key == "flags" and "simd" not in info:
                flags = set(value.split())
                info["simd"] = sorted(f for f in flags if f in {"avx", "avx2", "fma", "avx512f", "avx512_bf16",
                                                                "amx_bf16", "avx_vnni", "f16c"})
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        from importlib.metadata import version

        info["versions"] = {name: version(name) for name in ("torch", "diffusers", "transformers", "PySide6")}
    except Exception:  # noqa: BLE001 - a missing distribution only loses a line of context
        pass
    return info


def peak_gflops(info: dict) -> float | None:
    """Theoretical fp32 peak: cores x clock x FLOPs per cycle (AVX-512: 64, AVX2+FMA: 32, AVX: 16)."""
    mhz, cores, simd = info.get("cpu_mhz"), info.get("cpus"), set(info.get("simd", []))
    if not mhz or not cores:
        return None
    per_cycle = 64 if "avx512f" in simd else 32 if {"avx2", "fma"} <= simd else 16 if "avx" in simd else 8
    return cores * mhz / 1000.0 * per_cycle


def in_thread(fn: Callable[[], object]):
    """Run fn on a fresh thread, as the app runs torch on its worker, and return its result.

    Measured here under load: a torch call on the main thread (OpenMP team of the main thread) ran
    up to 5x slower than the same call on a secondary thread, so plain baselines run on a thread too
    and compare like with like (benchmarks/RESULTS.md).
    """
    import threading

    box: list = []
    failure: list = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            failure.append(error)

    thread = threading.Thread(target=target, name="bench-plain")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return box[0]
