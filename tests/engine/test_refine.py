"""Tiled refine: a real img2img per tile, blended; the seam across tile borders is measured."""

import numpy as np
from PIL import Image

from desktop.core.params import GenerationParams
from desktop.engine.refine import refine_tiled, seam_ratio
from desktop.engine.tiling import run_tiled, tile_grid


def _smooth(width, height):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 128)], -1).astype(np.uint8)


def _drifting(crop):
    """A tile operation that shifts each tile's colour differently, as img2img does on its own tile."""
    _drifting.count += 1
    return np.clip(crop + 0.08 * (_drifting.count % 3) - 0.08, 0, 1)


def test_blended_tiles_leave_no_step_where_hard_edges_do():
    image = _smooth(256, 64)
    _drifting.count = 0
    blended = run_tiled(image, 1, 64, 32, _drifting)
    _drifting.count = 0
    hard = run_tiled(image, 1, 64, 0, _drifting)  # no overlap: the tiles meet edge to edge
    borders_hard = [t.x for t in tile_grid(256, 64, 64, 0) if t.x]
    borders_blend = [t.x for t in tile_grid(256, 64, 64, 32) if t.x] + \
                    [t.x + t.width for t in tile_grid(256, 64, 64, 32) if t.x + t.width < 256]
    assert seam_ratio(hard, borders_hard) > 10  # the measure sees a real seam
    assert seam_ratio(blended, borders_blend) < 2.5  # blended: no border step stands out


def test_refine_a_picture_larger_than_one_tile_with_a_real_pipeline(tiny_sd15):
    from desktop.engine.pipeline import ImageEngine

    engine = ImageEngine(channels_last=False)
    engine.load(tiny_sd15)
    progress = []
    params = GenerationParams(prompt="a fox", steps=2, strength=0.5, seed=1, width=64, height=64)
    picture = Image.fromarray(_smooth(96, 64))
    refined = refine_tiled(engine, picture, params, tile=64, overlap=32,
                           on_progress=lambda done, total: progress.append((done, total)))
    assert refined.size == (96, 64)
    tiles = len(tile_grid(96, 64, 64, 32))
    assert tiles == 2 and progress[-1] == (2, 2)  # one bar: tiles x int(2 * 0.5) steps
    assert np.asarray(refined).std() > 1  # pixels came back from the pipeline
