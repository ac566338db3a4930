"""`generate --control/--reference/--region`: parse, check against the files and models, before any model loads.

    --control TYPE:IMAGE[:MODEL[:WEIGHT[:START:END]]]   (repeatable; MODEL may be left out when one fits)
    --reference IMAGE:MODEL[:WEIGHT]                     (repeatable)
    --region MASK_IMAGE:PROMPT                          (repeatable; white = inside)

Every mistake is one sentence (SteeringArgError); generate prints it and exits 2.
"""

from __future__ import annotations

from pathlib import Path

from desktop.core.control_types import control_type, type_names
from desktop.core.models import CONTROLNET, IP_ADAPTER, UNKNOWN, ModelEntry
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec, SteeringError


class SteeringArgError(ValueError):
    """A --control/--reference/--region value that cannot be used; the message says how to write it."""


def _fields(text: str) -> list[str]:
    """Split on ':' but keep a Windows drive letter (C:\\...) with its path."""
    parts = text.split(":")
    out: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        if len(part) == 1 and part.isalpha() and index + 1 < len(parts) and parts[index + 1][:1] in ("\\", "/"):
            out.append(part + ":" + parts[index + 1])
            index += 2
            continue
        out.append(part)
        index += 1
    return out


def _number(option: str, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SteeringArgError(f"{option}: {what} must be a number, got {text!r}") from None


def _image(option: str, path_text: str, mode: str, size: tuple[int, int] | None):
    """The image at `path_text` (RGBA or L); refuses a missing file, a non-image, or another size than `size`."""
    from PIL import Image

    from desktop.core.image_io import ImageLoadError, load_image

    try:
        pixels = load_image(Path(path_text).expanduser())
    except ImageLoadError as error:
        raise SteeringArgError(f"{option}: {error}") from None
    image = Image.fromarray(pixels)
    if size is not None and image.size != size:
        raise SteeringArgError(f"{option}: {path_text} is {image.width}x{image.height} but the image to make is "
                               f"{size[0]}x{size[1]}; give one of that size (or change --width/--height)")
    return image.convert(mode)


def _fits(entry: ModelEntry, family: str) -> bool:
    return entry.family in (UNKNOWN, family) or family == UNKNOWN


def _check_preprocessing(option: str, kind: str, entries) -> None:
    row = control_type(kind)
    if row.unsupported:
        raise SteeringArgError(f"{option}: {row.unsupported.replace('turn Preprocess off', 'use --control-as-is')}")
    if row.needs_model and not any(e.kind == row.model_kind and e.usable for e in entries):
        raise SteeringArgError(f"{option}: {row.label.lower()} from a picture needs a {row.model_kind} model in "
                               f"models/preprocessors and none is installed; or give the map itself with "
                               f"--control-as-is")


def parse_control(text: str, entries, family: str, size: tuple[int, int], as_is: bool = False,
                  on_server: bool = False) -> tuple[ControlSpec, object]:
    """on_server: MODEL is a ControlNet on the ComfyUI server (resolved there; empty: the one for TYPE)."""
    option = f"--control {text!r}"
    fields = _fields(text)
    if len(fields) < 2 or len(fields) > 6:
        raise SteeringArgError(f"{option}: write TYPE:IMAGE[:MODEL[:WEIGHT[:START:END]]], "
                               f"e.g. --control canny:edges.png:control_canny:0.8")
    kind, path_text, *rest = fields
    if kind not in type_names():
        raise SteeringArgError(f"{option}: unknown control type {kind!r}; use one of {', '.join(type_names())}")
    model = rest[0] if rest else ""
    weight = _number(option, rest[1], "the weight") if len(rest) > 1 else 1.0
    start, end = (_number(option, rest[2], "the start"), _number(option, rest[3], "the end")) if len(rest) > 3 \
        else (0.0, 1.0)
    if len(rest) == 3:
        raise SteeringArgError(f"{option}: give both START and END (fractions of the steps), e.g. :0.8:0:0.6")
    if not on_server:
        model = _controlnet(option, model, kind, entries, family)
    if not as_is:
        _check_preprocessing(option, kind, entries)
    try:
        spec = ControlSpec(kind, model, weight, start, end, layer=Path(path_text).name, preprocess=not as_is)
    except SteeringError as error:
        raise SteeringArgError(f"{option}: {error}") from None
    return spec, _image(option, path_text, "RGBA", size)


def _controlnet(option: str, name: str, kind: str, entries, family: str) -> str:
    """The ControlNet's name: the one given (it must exist and fit the model), or the one installed for this type."""
    installed = [e for e in entries if e.kind == CONTROLNET]
    if name:
        found = [e for e in installed if name in (e.name, e.path) or e.name.lower() == name.lower()]
        if not found:
            names = ", ".join(sorted(e.name for e in installed)) or "none (put ControlNets in models/controlnet)"
            raise SteeringArgError(f"{option}: no ControlNet named {name!r}; installed: {names}")
        if not _fits(found[0], family):
            raise SteeringArgError(f"{option}: ControlNet {found[0].name!r} was made for {found[0].family} models; "
                                   f"the model is {family}")
        if found[0].problem:
            raise SteeringArgError(f"{option}: {found[0].problem}")
        return found[0].name
    words = control_type(kind).model_words
    fitting = [e for e in installed if e.usable and _fits(e, family) and any(w in e.name.lower() for w in words)]
    if not fitting:
        raise SteeringArgError(f"{option}: no {family} ControlNet for {kind} is installed (models/controlnet); "
                               f"name one: {kind}:IMAGE:MODEL")
    return fitting[0].name


def parse_reference(text: str, entries, family: str) -> tuple[ReferenceSpec, object]:
    option = f"--reference {text!r}"
    fields = _fields(text)
    if len(fields) not in (2, 3):
        raise SteeringArgError(f"{option}: write IMAGE:MODEL[:WEIGHT], e.g. --reference style.png:ip-adapter_sd15:0.6")
    path_text, name = fields[0], fields[1]
    weight = _number(option, fields[2], "the weight") if len(fields) == 3 else 1.0
    found = [e for e in entries if e.kind == IP_ADAPTER and (name in (e.name, e.path) or e.name.lower() == name.lower())]
    if not found:
        names = ", ".join(sorted(e.name for e in entries if e.kind == IP_ADAPTER)) or "none (models/ipadapter)"
        raise SteeringArgError(f"{option}: no IP-Adapter named {name!r}; installed: {names}")
    if not _fits(found[0], family):
        raise SteeringArgError(f"{option}: IP-Adapter {found[0].name!r} was made for {found[0].family} models; "
                               f"the model is {family}")
    if found[0].problem:
        raise SteeringArgError(f"{option}: {found[0].problem}")
    try:
        spec = ReferenceSpec(found[0].name, weight, layer=Path(path_text).name)
    except SteeringError as error:
        raise SteeringArgError(f"{option}: {error}") from None
    return spec, _image(option, path_text, "RGB", None)


def parse_region(text: str, size: tuple[int, int]) -> tuple[RegionSpec, object]:
    option = f"--region {text[:60]!r}"
    fields = _fields(text)
    if len(fields) < 2 or not fields[1:]:
        raise SteeringArgError(f"{option}: write MASK_IMAGE:PROMPT (white in the mask = where the prompt applies)")
    path_text, prompt = fields[0], ":".join(fields[1:])
    if not prompt.strip():
        raise SteeringArgError(f"{option}: the region's prompt is empty")
    mask = _image(option, path_text, "L", size)
    if mask.getextrema()[1] < 128:
        raise SteeringArgError(f"{option}: {path_text} has no white area: paint the region white")
    return RegionSpec(prompt.strip(), layer=Path(path_text).name), mask


def parse_steering(args, params, entries, family: str, on_server: bool = False):
    """(params with the specs, SteeringInputs) for generate's options; SteeringArgError for the first mistake.

    on_server: for `--comfyui`; ControlNet names are the server's (checked there), preprocessing models local.
    """
    size = (params.width, params.height)
    controls = [parse_control(text, entries, family, size, args.control_as_is, on_server) for text in args.control]
    references = [parse_reference(text, entries, family) for text in args.reference]
    regions = [parse_region(text, size) for text in args.region]
    params = params.replace(controls=tuple(s for s, _ in controls), references=tuple(s for s, _ in references),
                            regions=tuple(s for s, _ in regions))
    return params, ([i for _, i in controls], [i for _, i in references], [m for _, m in regions])
