"""Tiled refine: img2img over a large picture in overlapping tiles, so SD 1.5 can refine 4096 px in memory.

Each tile (the model's native size, e.g. 512 px) goes through ImageEngine.generate as img2img at a low
strength with the same prompt and seed; tiles overlap and are blended with normalised linear feathers
(desktop.engine.tiling), so a tile that drifts in colour fades into its neighbours instead of ending
in a step. Memory is one img2img at tile size plus the strip the blend keeps.
"""

from __future__ import annotations

import threading

import numpy as np

from desktop.core.params import GenerationParams
from desktop.engine.tiling import run_tiled, tile_grid


def refine_tiled(engine, image, params: GenerationParams, *, tile: int = 512, overlap: int = 64,
                 on_progress=None, cancel: threading.Event | None = None, addons=()):
    """`image` (PIL, sides multiples of 8) refined tile by tile; one progress bar over tiles x steps."""
    from PIL import Image

    if image.width % 8 or image.height % 8:
        raise ValueError(f"tiled refine needs sides that are multiples of 8, got {image.width}x{image.height}")
    from desktop.engine.hires import at_least_one_step

    params = params.replace(steps=at_least_one_step(params.steps, params.strength))
    tiles = tile_grid(image.width, image.height, tile, overlap)
    done_tiles = [0]

    def on_step(step: int, total: int) -> None:
        if on_progress is not None:
            on_progress(done_tiles[0] * total + step, len(tiles) * total)

    def process(crop: np.ndarray) -> np.ndarray:
        picture = Image.fromarray(np.clip(crop * 255.0 + 0.5, 0, 255).astype(np.uint8))
        one = params.replace(mode="img2img", width=picture.width, height=picture.height, batch_size=1,
                             hires_scale=0.0)
        out = engine.generate(one, init_image=picture, on_progress=on_step, cancel=cancel, addons=addons)[0]
        done_tiles[0] += 1
        return np.asarray(out.convert("RGB"), dtype=np.float32) / 255.0

    pixels = run_tiled(np.asarray(image.convert("RGB")), 1, tile, overlap, process, cancel=cancel)
    return Image.fromarray(pixels)


def upscale_and_refine(engine, upscaler, image, scale: int, params: GenerationParams, *, tile: int = 192,
                       refine_tile: int = 512, overlap: int = 64, on_progress=None,
                       cancel: threading.Event | None = None, addons=()):
    """Upscale with the network, then refine in tiles with the loaded image model: one progress bar."""
    from PIL import Image

    from desktop.engine.hires import OneBar
    from desktop.engine.tiling import tile_grid as grid
    from desktop.engine.upscaler import upscale_image

    from desktop.engine.hires import at_least_one_step

    params = params.replace(steps=at_least_one_step(params.steps, params.strength))
    width, height = image.width * scale, image.height * scale
    snapped = (max(64, width // 8 * 8), max(64, height // 8 * 8))
    steps = max(1, min(int(params.steps * params.strength), params.steps))
    bar = OneBar(on_progress, [len(grid(image.width, image.height, tile, 16)),
                               len(grid(*snapped, refine_tile, overlap)) * steps])
    big = upscale_image(image, upscaler, scale, tile=tile, on_tile=bar, cancel=cancel)
    bar.start(1)
    refined = refine_tiled(engine, big.resize(snapped, Image.Resampling.LANCZOS), params, tile=refine_tile,
                           overlap=overlap, on_progress=bar, cancel=cancel, addons=addons)
    return refined if refined.size == (width, height) else refined.resize((width, height), Image.Resampling.LANCZOS)


def seam_ratio(pixels: np.ndarray, borders: list[int]) -> float:
    """How much larger the step across tile borders is than a typical step between columns: ~1 = no seam."""
    grey = pixels.astype(np.float64).mean(axis=2)
    steps = np.abs(np.diff(grey, axis=1)).mean(axis=0)  # mean |I[x+1] - I[x]| per column boundary
    inside = np.median(steps)
    at_borders = max(steps[b - 1] for b in borders)
    return float(at_borders / max(inside, 1e-6))
