"""`python -m benchmarks.upscale [--speed] [--models DIR]`: the built-in upscaler's quality and speed.

Quality, on real photographs that scikit-image ships (astronaut, chelsea, coffee): each is cut to a
multiple of 4, downscaled 4x (area average), and brought back 4x by Real-ESRGAN x4plus and by bicubic,
side by side in one run. Sharpness: variance of the Laplacian of the grey output (higher = more fine
detail). Consistency: the output downscaled 4x again (area average) against the small input, PSNR in dB
(higher = the upscale invents nothing that contradicts the input). Also PSNR against the original.
Speed (--speed): 512 -> 2048 px on this CPU, tiles/s and seconds for float32, channels_last and
bfloat16; peak RSS of two image sizes in child processes (memory is bounded by the tile, not the image).
Heavy: run under `flock /tmp/atelier-heavy.lock`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ("astronaut", "chelsea", "coffee")


def laplacian_variance(rgb: np.ndarray) -> float:
    from scipy.ndimage import laplace

    grey = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return float(laplace(grey).var())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def area_down(rgb: np.ndarray, factor: int) -> np.ndarray:
    h, w = rgb.shape[0] // factor, rgb.shape[1] // factor
    return rgb[:h * factor, :w * factor].reshape(h, factor, w, factor, 3).astype(np.float64).mean((1, 3))


def quality(models: Path, cache: Path, side_by_side: Path | None = None) -> dict:
    from PIL import Image
    from skimage import data

    from desktop.engine.upscaler import load_upscaler, upscale_image

    upscaler = load_upscaler("realesrgan-x4plus", [models], cache)
    rows, panels = {}, []
    for name in PHOTOS:
        original = getattr(data, name)()[..., :3]
        original = original[: original.shape[0] // 4 * 4, : original.shape[1] // 4 * 4]
        small = np.clip(area_down(original, 4) + 0.5, 0, 255).astype(np.uint8)
        size = (original.shape[1], original.shape[0])
        bicubic = np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC))
        start = time.perf_counter()
        esrgan = np.asarray(upscale_image(Image.fromarray(small), upscaler, 4))
        seconds = time.perf_counter() - start
        rows[name] = {
            "input": f"{small.shape[1]}x{small.shape[0]}", "seconds": round(seconds, 2),
            "sharpness_esrgan": laplacian_variance(esrgan), "sharpness_bicubic": laplacian_variance(bicubic),
            "sharpness_original": laplacian_variance(original),
            "consistency_psnr_esrgan": psnr(area_down(esrgan, 4), small),
            "consistency_psnr_bicubic": psnr(area_down(bicubic, 4), small),
            "psnr_vs_original_esrgan": psnr(esrgan, original), "psnr_vs_original_bicubic": psnr(bicubic, original),
        }
        rows[name]["sharpness_ratio"] = rows[name]["sharpness_esrgan"] / rows[name]["sharpness_bicubic"]
        if name == "astronaut" and side_by_side is not None:
            crop = (slice(40, 232), slice(160, 352))  # the face: 192 px
            nearest = np.asarray(Image.fromarray(small).resize(size, Image.Resampling.NEAREST))
            panels = [nearest[crop], bicubic[crop], esrgan[crop], original[crop]]
            gap = np.full((192, 4, 3), 255, np.uint8)
            strip = np.concatenate([p if i == 0 else np.concatenate([gap, p], 1) for i, p in enumerate(panels)], 1)
            Image.fromarray(strip).save(side_by_side, optimize=True)
    return rows


def speed(models: Path, cache: Path, side: int = 512, tile: int = 192, rounds: int = 3) -> dict:
    """Per-tile seconds of each variant, alternating variants round by round (the machine is shared), as
    medians; 512 -> 2048 px seconds = its tiles at that rate, and one whole 512 px run with the fastest."""
    import statistics

    import torch
    from PIL import Image
    from skimage import data

    from desktop.engine.tiling import tile_grid
    from desktop.engine.upscaler import load_upscaler, upscale_image

    variants = {"float32": (torch.float32, False), "channels_last": (torch.float32, True),
                "bfloat16": (torch.bfloat16, False), "bfloat16+channels_last": (torch.bfloat16, True)}
    loaded = {}
    for label, (dtype, channels_last) in variants.items():
        loaded[label] = load_upscaler("realesrgan-x4plus", [models], cache, device="cpu")
        loaded[label].set_speed(dtype, channels_last)
    one_tile = Image.fromarray(data.astronaut()).resize((tile, tile))
    for upscaler in loaded.values():  # warm-up: oneDNN picks its kernels on the first call
        upscale_image(one_tile.resize((32, 32)), upscaler, 4, tile=tile)
    samples: dict[str, list[float]] = {label: [] for label in variants}
    reference = None
    found = {}
    for _ in range(rounds):
        for label, upscaler in loaded.items():
            start = time.perf_counter()
            out = np.asarray(upscale_image(one_tile, upscaler, 4, tile=tile), np.int16)
            samples[label].append(time.perf_counter() - start)
            reference = out if reference is None else reference
            found.setdefault(label, {})["max_diff_levels_vs_float32"] = int(np.abs(out - reference).max())
    tiles = len(tile_grid(side, side, tile, 16))
    base = statistics.median(samples["float32"])
    for label in variants:
        per_tile = statistics.median(samples[label])
        found[label].update({"seconds_per_tile": round(per_tile, 2), "tiles_per_s": round(1 / per_tile, 3),
                             f"seconds_{side}_to_{side * 4}": round(per_tile * tiles, 1),
                             "speed_vs_float32": round(base / per_tile, 2)})
    fastest = min(variants, key=lambda label: statistics.median(samples[label]))
    start = time.perf_counter()
    upscale_image(Image.fromarray(data.astronaut()).resize((side, side)), loaded[fastest], 4, tile=tile)
    found["whole_run"] = {"variant": fastest, "tiles": tiles, "seconds": round(time.perf_counter() - start, 1)}
    return found


def peak_rss_child(models: Path, cache: Path, side: int, tile: int) -> float:
    # VmHWM (this process's own high-water mark): ru_maxrss would carry the parent's peak across fork/exec
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.upscale import _one; "
            f"_one({str(models)!r}, {str(cache)!r}, {side}, {tile}); "
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024  # MB


def _one(models: str, cache: str, side: int, tile: int) -> None:
    from PIL import Image

    from desktop.engine.upscaler import load_upscaler, upscale_image

    from skimage import data

    upscaler = load_upscaler("realesr-animevideov3", [Path(models)], Path(cache), device="cpu")
    upscale_image(Image.fromarray(data.astronaut()).resize((side, side)), upscaler, 4, tile=tile)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(Path.home() / ".cache" / "atelier-bench" / "models"))
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "atelier-tests"))
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--side-by-side", default="")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    models, cache = Path(args.models), Path(args.cache)
    result = {} if args.skip_quality else {
        "quality": quality(models, cache, Path(args.side_by_side) if args.side_by_side else None)}
    if args.speed:
        result["speed_512_to_2048"] = speed(models, cache)
        result["peak_rss_mb_animevideov3_tile_128"] = {
            f"{side}px_to_{side * 4}px": round(peak_rss_child(models, cache, side, 128)) for side in (256, 1024)}
    result["self_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
