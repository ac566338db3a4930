"""What steers a generation besides its prompt: control layers, reference images and regional prompts.

Each is a frozen, validated spec. A layer carries one (its steering role, saved in the project and
undone like any edit); GenerationParams carries the enabled ones of a job (recorded in the image's
metadata); the job carries their pixels. The images themselves never live in a spec.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from desktop.core.control_types import control_type

MAX_CONTROL_WEIGHT = 2.0  # A1111's slider goes to 2
MAX_REFERENCE_WEIGHT = 2.0
REFERENCE_MODES = ("full", "style", "face")  # face: a face IP-Adapter (plus-face, full-face)
CONTROL_SOURCES = ("layer", "canvas")  # canvas: the visible picture (its plain layers), not the layer's own pixels
CANVAS_LAYER_NAME = "Visible canvas"


class SteeringError(ValueError):
    """A steering setting that cannot be used; the message says what to do instead."""


def _number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= float(value) <= high:
        raise SteeringError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ControlSpec:
    """A control layer: the ControlNet type and model, its weight and the part of the steps it acts on."""

    type: str
    model: str = ""  # a ControlNet Atelier knows, by name
    weight: float = 1.0
    start: float = 0.0  # fraction of the steps where the control starts acting
    end: float = 1.0
    layer: str = ""  # the layer's name, for the metadata and for Reuse settings
    enabled: bool = True
    preprocess: bool = True  # False: the layer already is the map the model reads
    source: str = "layer"

    def __post_init__(self) -> None:
        try:
            control_type(self.type)
        except ValueError as error:
            raise SteeringError(str(error)) from None
        object.__setattr__(self, "weight", _number("control weight", self.weight, 0.0, MAX_CONTROL_WEIGHT))
        object.__setattr__(self, "start", _number("control start", self.start, 0.0, 1.0))
        object.__setattr__(self, "end", _number("control end", self.end, 0.0, 1.0))
        if self.start > self.end:
            raise SteeringError(f"a control starts before it ends: start {self.start:g} is after end {self.end:g}")
        if self.source not in CONTROL_SOURCES:
            raise SteeringError(f"control source must be one of {', '.join(CONTROL_SOURCES)}, got {self.source!r}")

    @property
    def acts(self) -> bool:
        """Whether the model changes anything: a weight of 0 or an empty range leaves the image as without it."""
        return self.enabled and self.weight > 0 and self.end > self.start


@dataclass(frozen=True)
class ReferenceSpec:
    """A reference image (IP-Adapter): the adapter, its weight, and whether it gives everything or style only."""

    model: str  # an IP-Adapter Atelier knows, by name
    weight: float = 1.0
    mode: str = "full"
    layer: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _number("reference weight", self.weight, 0.0, MAX_REFERENCE_WEIGHT))
        if self.mode not in REFERENCE_MODES:
            raise SteeringError(f"reference mode must be one of {', '.join(REFERENCE_MODES)}, got {self.mode!r}")


@dataclass(frozen=True)
class RegionSpec:
    """A regional prompt: inside the layer's painted pixels (or a mask) this prompt replaces the main one."""

    prompt: str
    layer: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str):
            raise SteeringError(f"a region's prompt must be text, got {self.prompt!r}")


SPEC_KINDS = {"control": ControlSpec, "reference": ReferenceSpec, "region": RegionSpec}
_KIND_OF = {cls: kind for kind, cls in SPEC_KINDS.items()}


def spec_kind(spec) -> str:
    return _KIND_OF[type(spec)]


def spec_to_dict(spec) -> dict:
    return {"kind": spec_kind(spec), **asdict(spec)}


def spec_from_dict(data, kind: str | None = None):
    """A spec from its dict (kind from `kind` or data["kind"]); SteeringError when it is not one."""
    if not isinstance(data, dict):
        raise SteeringError(f"a steering setting must be an object, got {type(data).__name__}")
    kind = kind or data.get("kind")
    cls = SPEC_KINDS.get(kind)
    if cls is None:
        raise SteeringError(f"unknown steering kind {kind!r}: one of {', '.join(SPEC_KINDS)}")
    known = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as error:
        raise SteeringError(f"a {kind} setting is incomplete: {error}") from None


def spec_to_json(spec) -> str:
    return json.dumps(spec_to_dict(spec), ensure_ascii=False, sort_keys=True)


def spec_from_json(text: str):
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SteeringError(f"a steering setting is not valid JSON ({error})") from None
    return spec_from_dict(data)


def specs_from_list(items, kind: str) -> tuple:
    """GenerationParams.from_dict's reading of controls/references/regions (lists of dicts, or specs)."""
    if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)):
        raise SteeringError(f"{kind} settings must be a list")
    cls = SPEC_KINDS[kind]
    return tuple(item if isinstance(item, cls) else spec_from_dict(item, kind) for item in items)


def describe(spec) -> str:
    """A few words for a layer's tooltip and the status bar."""
    if isinstance(spec, ControlSpec):
        state = "" if spec.enabled else ", off"
        return f"Control: {control_type(spec.type).label}, {spec.model or 'no model'}, weight {spec.weight:g}{state}"
    if isinstance(spec, ReferenceSpec):
        return f"Reference ({spec.mode}): {spec.model or 'no adapter'}, weight {spec.weight:g}" + \
            ("" if spec.enabled else ", off")
    return f"Region: {spec.prompt[:60]}" + ("" if spec.enabled else " (off)")
