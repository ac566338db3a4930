"""Does converting a single-file checkpoint once to a diffusers folder pay off? Measures both loads.

    python -m benchmarks.single_file_load --size tiny   # the test suite's tiny SD 1.x layout (seconds)
    python -m benchmarks.single_file_load --size real   # SD 1.5's real architecture, zero weights (4.3 GB, minutes)

Each load runs in a fresh process (imports done before the clock starts), alternating single file and
folder, three times each; the medians are printed as one JSON line, with the one-time conversion cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build(size: str, work: Path) -> tuple[Path, Path | None]:
    """An LDM-layout checkpoint file, and the config folder to load it with (None: the shipped one)."""
    import torch

    from desktop.engine.ldm_layout import save_ldm_checkpoint

    if size == "tiny":
        from diffusers import StableDiffusionPipeline

        from desktop.engine.tiny_models import build_sd15

        folder = build_sd15(work / "tiny-source")
        pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
        return save_ldm_checkpoint(pipe, work / "model.safetensors"), folder
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from desktop.engine.single_file import config_folder

    config = config_folder("SD 1.x")
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(config / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(config / "vae"))
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(config / "text_encoder"))

    class Pipe:  # what save_ldm_checkpoint reads
        pass

    pipe = Pipe()
    for name, module in (("unet", unet), ("vae", vae), ("text_encoder", text)):
        module = module.to_empty(device="cpu")
        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                tensor.zero_()
        setattr(pipe, name, module)
    pipe.text_encoder_2 = None
    return save_ldm_checkpoint(pipe, work / "model.safetensors"), None


def _child(kind: str, path: str, config: str) -> float:
    import torch  # noqa: F401  (imports are not what is measured)
    from diffusers import StableDiffusionPipeline  # noqa: F401

    from desktop.engine import single_file

    single_file.quiet()
    start = time.perf_counter()
    if kind == "single":
        single_file.load_single_file(path, config=config or None)
    else:
        StableDiffusionPipeline.from_pretrained(path, local_files_only=True)
    return time.perf_counter() - start


def _timed(kind: str, path: Path, config: Path | None) -> float:
    out = subprocess.run([sys.executable, "-m", "benchmarks.single_file_load", "--child", kind, str(path),
                          str(config or "")], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} load failed:\n{out.stderr[-3000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--child", nargs=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.child:
        print(_child(*args.child))
        return 0
    from desktop.engine.single_file import convert_to_diffusers

    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as temp:
        work = Path(temp)
        start = time.perf_counter()
        checkpoint, config = _build(args.size, work)
        built = time.perf_counter() - start
        start = time.perf_counter()
        folder = convert_to_diffusers(checkpoint, work / "converted", "SD 1.x", config=config)
        convert = time.perf_counter() - start
        size_bytes = checkpoint.stat().st_size
        single, converted = [], []
        for _ in range(args.rounds):
            single.append(_timed("single", checkpoint, config))
            converted.append(_timed("folder", folder, None))
    result = {"size": args.size, "checkpoint_bytes": size_bytes,
              "build_s": round(built, 2), "convert_once_s": round(convert, 2),
              "single_file_load_s": round(statistics.median(single), 3),
              "folder_load_s": round(statistics.median(converted), 3),
              "speedup": round(statistics.median(single) / statistics.median(converted), 2),
              "samples": {"single": [round(s, 3) for s in single], "folder": [round(s, 3) for s in converted]}}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
