"""Generation parameters: one frozen, validated value that the UI, the CLI and the engine share."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec, SteeringError, specs_from_list

MIN_SIDE = 64
MAX_SIDE = 4096
SIZE_STEP = 8
MAX_STEPS = 150
MAX_GUIDANCE = 30.0
MAX_SEED = 2**32 - 1
# Pixels one image may have before we refuse it. The real limit is memory; this is the cap
# applied when nothing better is known (2048 x 2048, four times SDXL's native size).
DEFAULT_MAX_PIXELS = 2048 * 2048

SCHEDULERS = ("Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DDIM", "LCM", "TCD")
MODES = ("txt2img", "img2img", "inpaint", "outpaint")


class ParamError(ValueError):
    """A parameter a person typed is wrong; the message says what to do instead."""


def nearest_valid_side(value: int) -> int:
    """Snap a width or height to the nearest multiple of 8 inside [64, 4096]."""
    snapped = (int(value) + SIZE_STEP // 2) // SIZE_STEP * SIZE_STEP  # halves round up, not to even
    return max(MIN_SIDE, min(MAX_SIDE, snapped))


def check_side(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParamError(f"{name} must be a whole number of pixels, got {value!r}")
    if value % SIZE_STEP or value < MIN_SIDE or value > MAX_SIDE:
        raise ParamError(
            f"{name} {value} is not allowed: use a multiple of {SIZE_STEP} between {MIN_SIDE} and "
            f"{MAX_SIDE} (nearest valid: {nearest_valid_side(value)})"
        )


def check_size(width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """The one size rule, applied the same way in the UI and on the command line."""
    check_side("width", width)
    check_side("height", height)
    if width * height > max_pixels:
        side = int((max_pixels) ** 0.5) // SIZE_STEP * SIZE_STEP
        raise ParamError(
            f"{width}x{height} needs more memory than this machine allows for one image: keep "
            f"width x height at or below {max_pixels:,} pixels (for example {side}x{side})"
        )


def random_seed() -> int:
    return random.randint(0, MAX_SEED)


@dataclass(frozen=True)
class GenerationParams:
    """Everything that decides the pixels of one image; validated on creation."""

    prompt: str = ""
    negative_prompt: str = ""
    model: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    guidance: float = 7.0
    scheduler: str = "Euler a"
    seed: int = 0
    mode: str = "txt2img"
    strength: float = 0.75
    batch_size: int = 1
    loras: tuple[tuple[str, float], ...] = ()
    vae: str = ""
    original_prompt: str = ""  # set when the prompt was rewritten by the assistant
    extra: tuple[tuple[str, str], ...] = field(default=())
    # hires fix (issue 13): 0 = off; else the first pass at width x height is upscaled by hires_scale with
    # hires_upscaler ("Latent", "Lanczos" or an upscaler's name) and refined by img2img at hires_strength
    hires_scale: float = 0.0
    hires_strength: float = 0.5
    hires_upscaler: str = ""
    hires_steps: int = 0  # 0: as many as the first pass
    # Fast mode (desktop/core/fast_mode.py): the switch, the recipe that ran, and the DeepCache interval
    # (the full UNet every N steps; 1 = every step)
    fast_mode: bool = False
    fast_recipe: str = ""
    cache_interval: int = 1
    # steering (desktop/core/steering.py): the enabled control layers, reference images and regional prompts
    controls: tuple[ControlSpec, ...] = ()
    references: tuple[ReferenceSpec, ...] = ()
    regions: tuple[RegionSpec, ...] = ()

    def __post_init__(self) -> None:
        check_size(self.width, self.height)
        if not isinstance(self.steps, int) or isinstance(self.steps, bool) or not 1 <= self.steps <= MAX_STEPS:
            raise ParamError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {self.steps!r}")
        if not isinstance(self.guidance, (int, float)) or not 0.0 <= float(self.guidance) <= MAX_GUIDANCE:
            raise ParamError(f"guidance must be a number from 0 to {MAX_GUIDANCE:g}, got {self.guidance!r}")
        object.__setattr__(self, "guidance", float(self.guidance))
        if self.scheduler not in SCHEDULERS:
            raise ParamError(f"unknown scheduler {self.scheduler!r}: choose one of {', '.join(SCHEDULERS)}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise ParamError(f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed!r}")
        if self.mode not in MODES:
            raise ParamError(f"unknown mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if not 0.0 < float(self.strength) <= 1.0:
            raise ParamError(f"strength must be above 0 and at most 1, got {self.strength!r}")
        if not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= 16:
            raise ParamError(f"batch size must be from 1 to 16, got {self.batch_size!r}")
        if self.hires_scale:
            check_hires(self)
        if not isinstance(self.cache_interval, int) or isinstance(self.cache_interval, bool) or \
                not 1 <= self.cache_interval <= 10:
            raise ParamError(f"cache interval must be a whole number from 1 to 10, got {self.cache_interval!r}")
        for name, kind in (("controls", ControlSpec), ("references", ReferenceSpec), ("regions", RegionSpec)):
            specs = getattr(self, name)
            if not isinstance(specs, tuple) or not all(isinstance(spec, kind) for spec in specs):
                raise ParamError(f"{name} must be a tuple of {kind.__name__}, got {specs!r}")

    def replace(self, **changes) -> "GenerationParams":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["loras"] = [list(item) for item in self.loras]
        data["extra"] = dict(self.extra)
        for name in ("controls", "references", "regions"):
            data[name] = [dict(spec) for spec in data[name]]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "GenerationParams":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "loras" in values:
            values["loras"] = tuple((str(n), float(w)) for n, w in values["loras"])
        if "extra" in values:
            extra = values["extra"]
            values["extra"] = tuple((str(k), str(v)) for k, v in (extra.items() if isinstance(extra, dict) else extra))
        for name, kind in (("controls", "control"), ("references", "reference"), ("regions", "region")):
            if name in values:
                try:
                    values[name] = specs_from_list(values[name], kind)
                except SteeringError as error:
                    raise ParamError(str(error)) from None
        return cls(**values)


def check_hires(params: GenerationParams) -> None:
    """The hires fix's own rules: scale, strength, steps, and a second-pass size this machine allows."""
    if not isinstance(params.hires_scale, (int, float)) or not 1.0 < float(params.hires_scale) <= 4.0:
        raise ParamError(f"hires scale must be above 1 and at most 4 (0 turns it off), got {params.hires_scale!r}")
    if not isinstance(params.hires_strength, (int, float)) or not 0.0 < float(params.hires_strength) <= 1.0:
        raise ParamError(f"hires strength must be above 0 and at most 1, got {params.hires_strength!r}")
    if not isinstance(params.hires_steps, int) or not 0 <= params.hires_steps <= MAX_STEPS:
        raise ParamError(f"hires steps must be a whole number from 0 to {MAX_STEPS}, got {params.hires_steps!r}")
    width, height = hires_size(params)
    if width > MAX_SIDE or height > MAX_SIDE or width * height > DEFAULT_MAX_PIXELS:
        raise ParamError(f"hires fix to {width}x{height} is larger than one image may be here: lower the hires "
                         "scale, or upscale the result afterwards (Image > Upscale…), which works in tiles")


def hires_size(params: GenerationParams) -> tuple[int, int]:
    """The hires fix's second-pass size: the first pass's times hires_scale, on the 8-pixel grid."""
    return (int(round(params.width * params.hires_scale / SIZE_STEP)) * SIZE_STEP,
            int(round(params.height * params.hires_scale / SIZE_STEP)) * SIZE_STEP)


def parse_number(name: str, text: str, kind: type = int):
    """Turn what a person typed into a number, or say clearly why not."""
    try:
        return kind(str(text).strip())
    except (TypeError, ValueError):
        what = "a whole number" if kind is int else "a number"
        raise ParamError(f"{name} must be {what}, got {text!r}") from None
