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


def speed(models: Path, cache: Path, side: int = 512, tile: int = 192) -> dict:
    import torch
    from PIL import Image
    from skimage import data

    from desktop.engine.tiling import tile_grid
    from desktop.engine.upscaler import load_upscaler, upscale_image

    image = Image.fromarray(data.astronaut()).resize((side, side))
    tiles = len(tile_grid(side, side, tile, 16))
    found = {}
    for label, dtype, channels_last in (("float32", torch.float32, False), ("channels_last", torch.float32, True),
                                        ("bfloat16", torch.bfloat16, False)):
        upscaler = load_upscaler("realesrgan-x4plus", [models], cache)
        upscaler.set_speed(dtype, channels_last)
        start = time.perf_counter()
        upscale_image(image, upscaler, 4, tile=tile)
        seconds = time.perf_counter() - start
        found[label] = {"seconds": round(seconds, 1), "tiles": tiles, "tiles_per_s": round(tiles / seconds, 3)}
    base = found["float32"]["seconds"]
    for label in found:
        found[label]["speed_vs_float32"] = round(base / found[label]["seconds"], 3)
    return found


def peak_rss_child(models: Path, cache: Path, side: int, tile: int) -> float:
    code = (f"import resource, sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.upscale import _one; "
            f"_one({str(models)!r}, {str(cache)!r}, {side}, {tile}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024  # MB


def _one(models: str, cache: str, side: int, tile: int) -> None:
    from PIL import Image

    from desktop.engine.upscaler import load_upscaler, upscale_image

    upscaler = load_upscaler("realesr-animevideov3", [Path(models)], Path(cache))
    upscale_image(Image.new("RGB", (side, side), (90, 120, 150)), upscaler, 4, tile=tile)


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
        result["peak_rss_mb_tile_128"] = {f"{side}px": round(peak_rss_child(models, cache, side, 128))
                                          for side in (256, 1024)}
    result["self_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
