"""Convert a Real-ESRGAN ncnn model (.param graph + .bin weights) into a PyTorch state dict, once.

The state dict uses the key names of the official Real-ESRGAN PyTorch releases (`conv_first`,
`body.N.rdb1.conv1`, ... for RRDBNet; `body.N` for SRVGGNetCompact), so the saved `.safetensors` is an
ordinary ESRGAN-family file: spandrel (and ComfyUI, chaiNNer) detect its architecture from the
weights like any other, and Atelier runs it through the same path as the artist's own upscalers.

ncnn's .bin is the layers' weights in graph order. A Convolution stores its kernel behind a 4-byte
tag (0 = float32, 0x01306B47 = float16 padded to 4 bytes, others = quantised) in PyTorch's own
[out, in, kh, kw] order, then its bias as raw float32; PReLU stores its slopes as raw float32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from desktop.core.upscalers import BuiltinUpscaler, UpscaleError

PARAM_MAGIC = "7767517"
TAG_FP32 = 0
TAG_FP16 = 0x01306B47
GROWTH = 32  # RRDBNet's dense-block growth channels (Real-ESRGAN's num_grow_ch)


@dataclass
class NcnnLayer:
    """One line of a .param file: type, name, blob names and its `key=value` settings."""

    kind: str
    name: str
    inputs: list[str]
    outputs: list[str]
    settings: dict[int, str] = field(default_factory=dict)

    def int_setting(self, key: int, default: int = 0) -> int:
        return int(self.settings.get(key, default))


def parse_param(text: str) -> list[NcnnLayer]:
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != [PARAM_MAGIC]:
        raise UpscaleError("not an ncnn .param file (its first line is not 7767517)")
    layers = []
    for parts in lines[2:]:
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        inputs, outputs = parts[4:4 + n_in], parts[4 + n_in:4 + n_in + n_out]
        settings = {}
        for item in parts[4 + n_in + n_out:]:
            key, _, value = item.partition("=")
            settings[int(key)] = value
        layers.append(NcnnLayer(kind, name, inputs, outputs, settings))
    return layers


class _WeightReader:
    """Reads ncnn's .bin in order: tagged kernels and raw float32 arrays."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def raw_fp32(self, count: int) -> np.ndarray:
        end = self.offset + 4 * count
        if end > len(self.data):
            raise UpscaleError("the ncnn .bin file is shorter than its .param graph needs: it is truncated")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.offset)
        self.offset = end
        return values

    def tagged(self, count: int) -> np.ndarray:
        if self.offset + 4 > len(self.data):
            raise UpscaleError("the ncnn .bin file is shorter than its .param graph needs: it is truncated")
        (tag,) = struct.unpack_from("<I", self.data, self.offset)
        self.offset += 4
        if tag == TAG_FP32:
            return self.raw_fp32(count)
        if tag == TAG_FP16:
            end = self.offset + 2 * count
            if end > len(self.data):
                raise UpscaleError("the ncnn .bin file is truncated inside a float16 kernel")
            values = np.frombuffer(self.data, dtype="<f2", count=count, offset=self.offset).astype(np.float32)
            self.offset += (2 * count + 3) // 4 * 4
            return values
        raise UpscaleError(f"this ncnn model stores quantised weights (tag {tag:#x}); only float32 and float16 "
                           "ncnn models can be converted")


def read_weights(layers: list[NcnnLayer], data: bytes) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """[(layer kind, {"weight": ..., "bias": ...})] for every Convolution and PReLU, in graph order."""
    reader, found = _WeightReader(data), []
    for layer in layers:
        if layer.kind == "Convolution":
            out_channels, kernel = layer.int_setting(0), layer.int_setting(1)
            count = layer.int_setting(6)
            in_channels = count // (out_channels * kernel * kernel)
            weight = reader.tagged(count).reshape(out_channels, in_channels, kernel, kernel)
            tensors = {"weight": torch.from_numpy(weight.copy())}
            if layer.int_setting(5):
                tensors["bias"] = torch.from_numpy(reader.raw_fp32(out_channels).copy())
            found.append(("Convolution", tensors))
        elif layer.kind == "PReLU":
            found.append(("PReLU", {"weight": torch.from_numpy(reader.raw_fp32(layer.int_setting(0)).copy())}))
        elif layer.kind not in ("Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle"):
            raise UpscaleError(f"unexpected ncnn layer {layer.kind} ({layer.name}): not a Real-ESRGAN graph")
    if reader.offset != len(data):
        raise UpscaleError(f"the ncnn .bin file has {len(data) - reader.offset} bytes more than its graph uses: "
                           "the .param and .bin do not belong together")
    return found


def _rrdb_names(conv_count: int) -> list[str]:
    blocks, rest = divmod(conv_count - 6, 15)
    if rest or blocks < 1:
        raise UpscaleError(f"{conv_count} convolutions do not make an RRDBNet (6 + 15 per block)")
    names = ["conv_first"]
    names += [f"body.{b}.rdb{r}.conv{c}" for b in range(blocks) for r in (1, 2, 3) for c in range(1, 6)]
    return names + ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


def to_state_dict(layers: list[NcnnLayer], data: bytes, architecture: str) -> dict[str, torch.Tensor]:
    """The weights under Real-ESRGAN's PyTorch key names for `architecture` ("ESRGAN" or "Compact")."""
    weights = read_weights(layers, data)
    state: dict[str, torch.Tensor] = {}
    if architecture == "Compact":
        # SRVGGNetCompact is one nn.ModuleList `body`: conv, PReLU, conv, PReLU, ..., conv
        for index, (_kind, tensors) in enumerate(weights):
            state.update({f"body.{index}.{key}": value for key, value in tensors.items()})
    elif architecture == "ESRGAN":
        if any(kind != "Convolution" for kind, _ in weights):
            raise UpscaleError("an RRDBNet graph has only convolutions")
        for name, (_kind, tensors) in zip(_rrdb_names(len(weights)), weights):
            state.update({f"{name}.{key}": value for key, value in tensors.items()})
    else:
        raise UpscaleError(f"unknown upscaler architecture {architecture!r}")
    return state


def convert(param: Path, weights: Path, model: BuiltinUpscaler, target: Path) -> Path:
    """Write `target` (.safetensors) from the ncnn pair, atomically, with where it came from in its metadata."""
    from safetensors.torch import save_file

    from desktop.core.upscalers import SOURCE_LICENSE, SOURCE_PACKAGE, SOURCE_VERSION

    layers = parse_param(Path(param).read_text(encoding="ascii"))
    state = to_state_dict(layers, Path(weights).read_bytes(), model.architecture)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")  # hidden: discovery skips half-written files
    save_file(state, str(partial), metadata={
        "source": f"{SOURCE_PACKAGE} {SOURCE_VERSION}: {model.ncnn_stem}.param/.bin",
        "source_bin_sha256": model.bin_sha256, "license": SOURCE_LICENSE, "architecture": model.architecture,
        "converted_by": "Atelier (desktop/engine/ncnn_convert.py)",
    })
    partial.replace(target)
    return target
