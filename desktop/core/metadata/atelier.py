"""Atelier's own record: everything needed to reproduce an image, as JSON in an `atelier` chunk."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from desktop import __version__
from desktop.core.metadata.coerce import MAX_PROMPT, as_dict, as_float, as_int, as_text, loads_json, short
from desktop.core.metadata.info import GenerationInfo
from desktop.core.params import GenerationParams

KEY = "atelier"  # PNG iTXt keyword
FORMAT = "atelier.generation"
FORMAT_VERSION = 1


def build_record(
    params: GenerationParams,
    *,
    model_name: str = "",
    model_hash: str = "",
    seconds: float | None = 0.0,
    extra: dict | None = None,
    created: float | None = None,
    image_size: tuple[int, int] | None = None,
) -> dict:
    """The JSON-ready record. `extra` holds source-image and mask hashes, the enhanced prompt, and so on.

    `seconds` None (not known, as for an exported canvas) leaves the time out rather than claim 0 s.
    """
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "created": datetime.datetime.fromtimestamp(time.time() if created is None else created)
        .astimezone().isoformat(timespec="milliseconds"),
        "params": params.to_dict(),
        "model_name": model_name or params.model,
        "model_hash": model_hash,
        "seconds": None if seconds is None else round(float(seconds), 3),
        "extra": dict(extra or {}),
    }
    if seconds is None:
        del record["seconds"]
    if image_size is not None and tuple(image_size) != (params.width, params.height):
        record["image_size"] = "{}x{}".format(*image_size)  # the picture's; `params` keep the generation's
    return record


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


def parse(text: Any) -> GenerationInfo:
    """Read an Atelier record; values of the wrong type are dropped and noted, never raised."""
    record = loads_json(text)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return GenerationInfo(notes=("the atelier chunk is not valid Atelier JSON",))
    notes: list[str] = []
    if as_int(record.get("format_version")) not in (None, FORMAT_VERSION):
        notes.append(f"written by a newer Atelier (format {record.get('format_version')!r}): read what is known")
    params = as_dict(record.get("params"))
    if not params:
        notes.append("the Atelier record holds no settings")
    extra: dict[str, Any] = {}
    for key in ("model_hash", "app_version", "created"):
        value = as_text(record.get(key), 200)
        if value:
            extra[key] = value
    seconds = as_float(record.get("seconds"))
    if seconds is not None:
        extra["seconds"] = seconds
    for key in ("loras", "vae", "original_prompt", "controls", "references", "regions"):
        if params.get(key) not in ("", [], None):
            extra[key] = short(params[key])
    if params.get("mode") not in (None, "txt2img"):  # the defaults only add noise to what people read
        extra["mode"], extra["strength"] = short(params.get("mode")), short(params.get("strength"))
    if params.get("batch_size") not in (None, 1):
        extra["batch_size"] = short(params["batch_size"])
    for key, value in as_dict(record.get("extra")).items():
        extra.setdefault(str(key)[:200], short(value))
    for key, value in as_dict(params.get("extra")).items():  # e.g. the server that made the image
        extra.setdefault(str(key)[:200], short(value))
    try:
        GenerationParams.from_dict(params)
        atelier_params = params
    except Exception as error:  # noqa: BLE001 - any wrong type in hostile JSON; fields below still read
        notes.append(f"the saved settings are not all valid ({str(error)[:200]})")
        atelier_params = None
    width, height = as_int(params.get("width")), as_int(params.get("height"))
    image_size = as_text(record.get("image_size"), 40) or ""
    shown = tuple(as_int(part) for part in image_size.partition("x")[::2]) if image_size else ()
    if len(shown) == 2 and None not in shown:  # an exported canvas: the file's size, and what was generated
        extra["generated_size"] = f"{width}x{height}"
        width, height = shown
    return GenerationInfo(
        tool="atelier",
        prompt=as_text(params.get("prompt"), MAX_PROMPT),
        negative_prompt=as_text(params.get("negative_prompt"), MAX_PROMPT),
        seed=as_int(params.get("seed")),
        steps=as_int(params.get("steps")),
        cfg_scale=as_float(params.get("guidance")),
        sampler=as_text(params.get("scheduler"), 100),
        width=width,
        height=height,
        model=as_text(record.get("model_name"), 500) or as_text(params.get("model"), 500) or None,
        extra=extra,
        notes=tuple(notes),
        atelier_params=atelier_params,
    )
