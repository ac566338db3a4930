"""Metadata of an upscaled picture: the source's own recipe kept, plus what the upscale did.

A1111's Extras tab writes `postprocessing` (`Postprocess upscale by: 4, Postprocess upscaler: ...`)
beside the `parameters` the source had; Atelier does the same, and adds an `atelier_upscale` JSON
record with the upscaler's hash, the tiles and the time, so the result says how it was made.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass

from desktop.core.metadata.a1111 import quote

KEY = "atelier_upscale"
KEPT = ("parameters", "atelier", "prompt", "workflow", "invokeai_metadata", "XML:com.adobe.xmp")


@dataclass(frozen=True)
class UpscaleRecord:
    """What one upscale did."""

    upscaler: str
    upscaler_hash: str  # SHA-256 of the weights file
    architecture: str
    scale: int  # the asked factor
    native_scale: int  # the network's own factor
    tile: int
    overlap: int
    tiles: int
    source_size: tuple[int, int]
    seconds: float = 0.0
    refine: dict | None = None  # tiled refine afterwards: model, prompt, strength, steps, seed, tile, tiles

    def a1111_text(self) -> str:
        pairs = [("Postprocess upscale by", self.scale), ("Postprocess upscaler", self.upscaler),
                 ("Postprocess upscaler hash", self.upscaler_hash[:10])]
        if self.refine:
            pairs += [("Tiled refine model", self.refine.get("model", "")),
                      ("Tiled refine strength", self.refine.get("strength", "")),
                      ("Tiled refine tiles", self.refine.get("tiles", ""))]
        return ", ".join(f"{key}: {quote(value)}" for key, value in pairs)

    def to_json(self) -> str:
        return json.dumps({"format": "atelier.upscale", **asdict(self)}, sort_keys=True)


def upscaled_png(image, record: UpscaleRecord, source_fields: dict | None = None) -> bytes:
    """The PNG bytes: the source's generation text chunks kept, then `postprocessing` and Atelier's record."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (source_fields or {}).items():
        if key in KEPT:
            info.add_itxt(key, value)
    info.add_text("postprocessing", record.a1111_text())
    info.add_itxt(KEY, record.to_json())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
