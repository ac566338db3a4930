"""Upscaling in blended tiles: the artist's own files (spandrel), pickles, cancel inside a tile, bounded memory."""

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from desktop.core.messages import JobCancelled
from desktop.core.pickle_files import TrustList
from desktop.core.upscalers import UpscaleError
from desktop.engine.tiling import StripBlender, feather, run_tiled, tile_grid
from desktop.engine.upscaler import import_spandrel, load_upscaler, upscale_image
from tests.conftest import UPSCALER_CACHE


def _gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], -1).astype(np.uint8)


def _nearest2(tile: np.ndarray) -> np.ndarray:
    return tile.repeat(2, 0).repeat(2, 1)


@pytest.mark.parametrize("width, height, tile, overlap", [(100, 70, 32, 8), (64, 64, 64, 8), (33, 200, 40, 12)])
def test_tiles_cover_the_image_and_a_pointwise_operation_comes_out_exactly_as_untiled(width, height, tile, overlap):
    tiles = tile_grid(width, height, tile, overlap)
    covered = np.zeros((height, width), bool)
    for part in tiles:
        assert part.width <= tile and part.height <= tile
        covered[part.y:part.y + part.height, part.x:part.x + part.width] = True
    assert covered.all()
    image = _gradient(width, height)
    calls = []
    out = run_tiled(image, 2, tile, overlap, _nearest2, on_tile=lambda done, total: calls.append((done, total)))
    assert np.array_equal(out, _nearest2(image))  # normalised feathers: a blend of equal tiles is the tile
    assert calls == [(i + 1, len(tiles)) for i in range(len(tiles))]


def test_feather_rises_and_falls_only_where_there_is_a_neighbour():
    assert feather(8, 4, False, False).tolist() == [1.0] * 8
    rising = feather(8, 4, True, False)
    assert rising[:4].tolist() == [0.125, 0.375, 0.625, 0.875] and rising[4:].tolist() == [1.0] * 4
    assert feather(8, 4, False, True)[::-1].tolist() == rising.tolist()


def test_float_memory_is_a_strip_of_tiles_whatever_the_image_height():
    for height in (64, 640):
        blender_rows = []
        original = StripBlender.add

        def spy(self, *args):
            original(self, *args)
            blender_rows.append(self.peak_strip_rows)

        StripBlender.add = spy
        try:
            run_tiled(_gradient(48, height), 2, 32, 8, _nearest2)
        finally:
            StripBlender.add = original
        assert max(blender_rows) <= 2 * 32 * 2  # at most two tile rows (32 px, scaled 2x) at once


def _tiny_compact():
    import_spandrel()
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    return Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=2)


@pytest.fixture
def artist_folder(tmp_path):
    """A models folder with the artist's own files: ESRGAN (old layout) and SwinIR in ESRGAN/, Compact in upscale_models/."""
    from safetensors.torch import save_file

    import_spandrel()  # before any spandrel module: it may need the torchvision stand-in
    from spandrel.architectures.ESRGAN import ESRGAN
    from spandrel.architectures.SwinIR import SwinIR

    torch.manual_seed(0)
    (tmp_path / "ESRGAN").mkdir()
    (tmp_path / "upscale_models").mkdir()
    save_file(ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4).state_dict(),
              str(tmp_path / "ESRGAN" / "4x-Tiny.safetensors"))
    swin = SwinIR(upscale=2, img_size=16, window_size=4, embed_dim=12, depths=[1], num_heads=[2], mlp_ratio=2,
                  upsampler="pixelshuffledirect")
    save_file(swin.state_dict(), str(tmp_path / "ESRGAN" / "2x-TinySwin.safetensors"))
    torch.save(_tiny_compact().state_dict(), tmp_path / "upscale_models" / "2x-Compact.pth")
    return tmp_path


@pytest.mark.parametrize("name, architecture, native", [("4x-Tiny", "ESRGAN", 4), ("2x-TinySwin", "SwinIR", 2)])
def test_the_artists_own_upscalers_load_with_the_architecture_read_from_the_weights(artist_folder, name,
                                                                                    architecture, native):
    upscaler = load_upscaler(name, [artist_folder], UPSCALER_CACHE)
    assert (upscaler.name, upscaler.architecture, upscaler.scale) == (name, architecture, native)
    assert len(upscaler.sha256) == 64
    out = upscale_image(Image.fromarray(_gradient(20, 12)), upscaler, 3, tile=16, overlap=4)
    assert out.size == (60, 36)


def test_a_pickle_upscaler_is_refused_until_the_user_trusts_that_file(artist_folder, tmp_path):
    trust = TrustList(tmp_path / "trusted.json")
    with pytest.raises(UpscaleError, match="pickle"):
        load_upscaler("2x-Compact", [artist_folder], UPSCALER_CACHE, trust=trust)
    trust.trust(artist_folder / "upscale_models" / "2x-Compact.pth")
    upscaler = load_upscaler("2x-Compact", [artist_folder], UPSCALER_CACHE, trust=trust)
    assert (upscaler.architecture, upscaler.scale) == ("RealESRGAN Compact", 2)


def test_a_pickle_that_holds_code_is_refused_even_when_trusted(artist_folder, tmp_path):
    import os

    evil = artist_folder / "upscale_models" / "4x-Evil.pth"
    torch.save({"weights": _tiny_compact().state_dict(), "run": os.system}, evil)
    trust = TrustList(tmp_path / "trusted.json")
    trust.trust(evil)
    with pytest.raises(UpscaleError, match="weights_only"):
        load_upscaler("4x-Evil", [artist_folder], UPSCALER_CACHE, trust=trust)


def test_an_unknown_name_or_a_non_upscaler_file_says_what_to_do(artist_folder):
    from safetensors.torch import save_file

    with pytest.raises(UpscaleError, match="no upscaler named 'nope'.*realesrgan-x4plus"):
        load_upscaler("nope", [artist_folder], UPSCALER_CACHE)
    save_file({"weight": torch.zeros(3)}, str(artist_folder / "ESRGAN" / "junk.safetensors"))
    with pytest.raises(UpscaleError, match="not an upscaler architecture"):
        load_upscaler("junk", [artist_folder], UPSCALER_CACHE)


def test_cancel_lands_inside_a_tile(builtin_upscalers):
    upscaler = load_upscaler("realesrgan-x4plus", [builtin_upscalers], UPSCALER_CACHE)
    cancel, convolutions = threading.Event(), []

    def count(_module, _inputs):
        convolutions.append(1)
        if len(convolutions) == 20:  # a little way into the first tile's 351 convolutions
            cancel.set()

    hooks = [m.register_forward_pre_hook(count) for m in upscaler.model.model.modules()
             if isinstance(m, torch.nn.Conv2d)]
    try:
        with pytest.raises(JobCancelled):
            upscale_image(Image.fromarray(_gradient(64, 64)), upscaler, 4, tile=32, overlap=8, cancel=cancel)
    finally:
        for hook in hooks:
            hook.remove()
    assert len(convolutions) == 20  # stopped at the next convolution, not at the end of the tile
    assert all(not m._forward_pre_hooks for m in upscaler.model.model.modules())  # its checks are removed


def test_spandrel_imports_with_a_broken_torchvision_and_nothing_else_sees_the_stand_in(tmp_path):
    broken = tmp_path / "torchvision"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise RuntimeError('operator torchvision::nms does not exist')\n")
    code = ("import sys; from desktop.engine.upscaler import import_spandrel; s = import_spandrel(); "
            "print(s.__version__, 'torchvision' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.4.2", "False"]


def test_the_project_never_asks_pip_for_torchvision():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    assert not [d for d in wanted if d.lower().startswith(("torchvision", "spandrel"))]
