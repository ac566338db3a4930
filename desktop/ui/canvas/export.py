"""Exporting the flattened canvas as PNG, JPEG or WebP, carrying the settings of its generation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from desktop.core.atomic import write_bytes_atomic
from desktop.core.compositing import rgba_to_rgb
from desktop.core.document import Document
from desktop.core.metadata import a1111
from desktop.core.metadata.writer import FORMATS, export_image
from desktop.core.params import GenerationParams


def generation_of(document: Document) -> tuple[GenerationParams, str] | None:
    """The settings (and model name) of the topmost visible generated layer: what the picture shows most."""
    for layer in reversed(document.layers):
        if layer.shown and layer.opacity > 0 and layer.parameters:
            info = a1111.parse(layer.parameters)
            return info.to_params(), info.model or ""
    return None


def export_flattened(document: Document, path: Path, c2pa_key_dir: Path | None = None) -> Path:
    """Write what the canvas shows; JPEG (no transparency) goes over white. Returns the file written.

    The metadata describes the file: its Size is the exported picture's (a generation at 376 px that
    was scaled to a 378 px area records 378, and its own size as `generated_size`), and no time is
    claimed (the export does not know how long the generation took). With `c2pa_key_dir`
    (Settings.write_c2pa) a generated picture is signed as the outputs are.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.suffix} is not a format Atelier exports: choose .png, .jpg or .webp")
    rgba = document.composite()
    image = Image.fromarray(rgba_to_rgb(rgba)) if fmt == "JPEG" else Image.fromarray(_keep_alpha(rgba))
    made = generation_of(document)
    if made is not None:
        params, model = made
        return export_image(image, params, path, fmt, model_name=model, seconds=None,
                            extra={"exported_from": "canvas"}, c2pa_key_dir=c2pa_key_dir,
                            image_size=(image.width, image.height))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 92} if fmt != "PNG" else {}))
    write_bytes_atomic(path, buffer.getvalue())
    return path


def _keep_alpha(rgba: np.ndarray) -> np.ndarray:
    """RGBA, or RGB when every pixel is opaque (smaller files, and what other programs expect)."""
    return rgba[..., :3] if rgba[..., 3].min() == 255 else rgba
