"""Real-ESRGAN x4plus on a real photograph: sharper than bicubic, and consistent with its input.

The cheap version of benchmarks/upscale.py (whose numbers are in the README): a 32 px crop of
scikit-image's astronaut, downscaled 4x from 128 px by area averaging, brought back by both.
"""

import numpy as np
from PIL import Image

from benchmarks.upscale import area_down, laplacian_variance, psnr
from desktop.engine.upscaler import load_upscaler, upscale_image
from tests.conftest import UPSCALER_CACHE


def test_x4plus_is_sharper_than_bicubic_and_consistent_with_its_input(builtin_upscalers):
    from skimage import data

    original = data.astronaut()[72:200, 192:320]  # the face, 128 px
    small = np.clip(area_down(original, 4) + 0.5, 0, 255).astype(np.uint8)
    bicubic = np.asarray(Image.fromarray(small).resize((128, 128), Image.Resampling.BICUBIC))
    upscaler = load_upscaler("realesrgan-x4plus", [builtin_upscalers], UPSCALER_CACHE)
    esrgan = np.asarray(upscale_image(Image.fromarray(small), upscaler, 4))
    assert laplacian_variance(esrgan) > 5 * laplacian_variance(bicubic)  # measured 27x
    assert psnr(area_down(esrgan, 4), small) > 27.0  # measured 30.0 dB here (bicubic: 36.2 dB)
