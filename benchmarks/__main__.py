"""`python -m benchmarks [--quick] [--only NAME ...]`: run the benchmark sections, print a table, write JSON.

Every required figure is present in the output; a section that is not built yet, or that failed,
reports null with the reason. The JSON goes to stdout (after the table) and to
benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/__main__.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import RESULTS, Context, Figure, machine, missing  # noqa: E402

# the unet section runs first in the full mode: preview_share divides by its step time
SECTIONS = ("unet", "decode", "startup", "stall", "generation", "memory", "fast", "token_merge", "chat", "steering",
            "gpu", "openvino_cpu")
REQUIRED = (
    "startup_paint_s", "startup_ready_s", "gui_stall_p99_ms", "gui_stall_max_ms", "overhead_ratio",
    "first_preview_s", "preview_share", "load_ratio", "rss_ratio", "chat_ttft_overhead_ms", "chat_tps_ratio",
    "unet_step_s_512", "unet_gflops", "unet_peak_share", "gui_stall_startup_max_ms", "fast_512_s", "fast_speedup",
)


def run_sections(names, ctx: Context, log=print) -> dict:
    figures: dict[str, Figure] = {}
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        start = time.perf_counter()
        log(f"[{name}] running…")
        try:
            figures.update(module.run(ctx))
        except Exception as error:  # one broken section must not lose the others' figures
            traceback.print_exc(file=sys.stderr)
            for key in module.KEYS:
                figures[key] = missing(f"section {name} failed: {str(error)[:300]}")
        log(f"[{name}] {time.perf_counter() - start:.1f} s")
    return figures


def table(figures: dict) -> str:
    rows = [("figure", "value", "target", "met")]
    for key, fig in figures.items():
        value = "null" if fig.value is None else f"{fig.value:.4g} {fig.unit}".strip()
        met = {True: "yes", False: "NO", None: "-"}[fig.met]
        rows.append((key, value, fig.target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny models only (under 2 minutes)")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="NAME",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=0, help="alternating rounds per ratio (default 3 quick, 5 full)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--models", type=Path, default=RESULTS / "models", help="where built test models are kept")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ctx = Context(quick=args.quick, repeats=args.repeats or (3 if args.quick else 5), work=args.models)
    started = time.time()
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731 - stdout is for the results
    figures = run_sections(args.only or SECTIONS, ctx, log)
    if not args.only:
        for key in REQUIRED:
            figures.setdefault(key, missing("no section produced it"))
    result = {
        "mode": "quick" if args.quick else "full", "sections": list(args.only or SECTIONS),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started, 1), "machine": machine(),
        "figures": {key: fig.as_dict() for key, fig in figures.items()},
    }
    print(table(figures))
    text = json.dumps(result, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
