"""Image metadata: read generation settings written by any common tool, write Atelier's own.

Public API:
    read_metadata(path) -> GenerationInfo        never raises; `.notes` says what could not be read
    format_a1111_parameters(params, model_name="", model_hash="") -> str
    export_image(image, params, path, format=None, ...) -> Path
    GenerationInfo, NO_DATA
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from desktop.core.metadata import a1111, atelier, comfyui, fooocus, invokeai, novelai, xmp
from desktop.core.metadata.coerce import loads_json
from desktop.core.metadata.image_text import ImageText, read_image_text
from desktop.core.metadata.info import NO_DATA, TOOL_LABELS, GenerationInfo
from desktop.core.metadata.writer import export_image

__all__ = [
    "GenerationInfo",
    "NO_DATA",
    "TOOL_LABELS",
    "export_image",
    "format_a1111_parameters",
    "interpret",
    "read_metadata",
]


def format_a1111_parameters(params, model_name: str = "", model_hash: str = "") -> str:
    return a1111.format_parameters(params, model_name=model_name, model_hash=model_hash)


def _candidates(text: ImageText, packet: dict[str, str]) -> list[tuple[str, Callable[[], GenerationInfo]]]:
    """(what, reader) pairs for the sources this file has, richest first."""
    fields = text.fields
    found: list[tuple[str, Callable[[], GenerationInfo]]] = []
    if atelier.KEY in fields:
        found.append(("Atelier record", lambda: atelier.parse(fields[atelier.KEY])))
    if "atelier" in packet:
        found.append(("Atelier record in XMP", lambda: atelier.parse(packet["atelier"])))
    if "invokeai_metadata" in fields:
        found.append(("InvokeAI metadata", lambda: invokeai.parse_metadata(fields["invokeai_metadata"])))
    if "prompt" in fields or "workflow" in fields:
        found.append(("ComfyUI graph", lambda: comfyui.parse(fields.get("prompt"), fields.get("workflow"))))
    if "sd-metadata" in fields:
        found.append(("InvokeAI sd-metadata", lambda: invokeai.parse_sd_metadata(fields["sd-metadata"])))
    if "Dream" in fields:
        found.append(("InvokeAI Dream", lambda: invokeai.parse_dream(fields["Dream"])))
    if novelai.looks_like_novelai(fields):
        found.append(("NovelAI metadata", lambda: novelai.parse(fields)))
    for what, source in (("parameters", fields.get("parameters")), ("EXIF UserComment", text.user_comment),
                         ("image comment", text.comment), ("image description", text.description)):
        if not source:
            continue
        if "fooocus_scheme" in fields or fooocus.looks_like_fooocus(loads_json(source) if source[:1] == "{" else None):
            found.append((f"Fooocus {what}", lambda s=source: fooocus.parse(s, fields.get("fooocus_scheme"))))
        else:
            found.append((f"A1111 {what}", lambda s=source: a1111.parse(s)))
    return found


def interpret(text: ImageText) -> GenerationInfo:
    """Pick the richest reader for the fields found; a failing reader is noted and the next one tried."""
    packet = xmp.parse_packet(text.xmp) if text.xmp else {}
    notes = list(text.notes)
    result: GenerationInfo | None = None
    for what, reader in _candidates(text, packet):
        try:
            info = reader()
        except Exception as error:  # noqa: BLE001 - the promise is: never raise on a bad file
            notes.append(f"{what} could not be read ({type(error).__name__}: {str(error)[:200]})")
            continue
        if info.found and _has_settings(info):
            result = info
            break
        notes.extend(info.notes)
        if info.found and result is None:
            result = info  # a prompt alone is still worth showing
    if result is None:
        result = GenerationInfo(notes=(NO_DATA,))
    extra = dict(result.extra)
    if "digital_source_type" in packet:
        extra["digital_source_type"] = packet["digital_source_type"]
    if text.has_c2pa:
        extra["c2pa"] = "a C2PA manifest is embedded"
    if result.found and result.width is None and result.height is None and text.width:
        result = replace(result, width=text.width, height=text.height)
    return replace(result, extra=extra, notes=tuple(dict.fromkeys((*result.notes, *notes))))


def _has_settings(info: GenerationInfo) -> bool:
    return any(v is not None for v in (info.seed, info.steps, info.cfg_scale, info.sampler))


def read_metadata(path: str | Path) -> GenerationInfo:
    """What the image at `path` says about how it was made. Never raises."""
    try:
        return interpret(read_image_text(path))
    except Exception as error:  # noqa: BLE001 - last guard; readers already catch their own errors
        return GenerationInfo(notes=(f"metadata could not be read ({type(error).__name__}: {str(error)[:200]})",))
