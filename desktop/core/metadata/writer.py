"""Writing Atelier's metadata into PNG, JPEG and WebP files: A1111 text, Atelier's record, XMP."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.core.atomic import write_bytes_atomic
from desktop.core.metadata import a1111, atelier, exif_block, xmp
from desktop.core.params import GenerationParams

log = logging.getLogger(__name__)

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_APP1_LIMIT = 65_000  # a JPEG APP1 segment (EXIF or XMP) holds at most 64 KB


@dataclass(frozen=True)
class GenerationTexts:
    """The three texts every Atelier image carries."""

    parameters: str  # A1111 `parameters`
    record: str  # Atelier's JSON
    description: str  # the prompt, for XMP dc:description
    created: float


def generation_texts(
    params: GenerationParams,
    *,
    model_name: str = "",
    model_hash: str = "",
    seconds: float | None = 0.0,
    extra: dict | None = None,
    created: float | None = None,
    image_size: tuple[int, int] | None = None,
) -> GenerationTexts:
    created = time.time() if created is None else created
    record = atelier.build_record(params, model_name=model_name, model_hash=model_hash, seconds=seconds,
                                  extra=extra, created=created, image_size=image_size)
    return GenerationTexts(
        parameters=a1111.format_parameters(params, model_name=model_name, model_hash=model_hash, size=image_size),
        record=atelier.dumps(record),
        description=params.prompt,
        created=created,
    )


def png_bytes(image, texts: GenerationTexts) -> bytes:
    """The PNG file: `parameters` (tEXt, or iTXt when not Latin-1), `atelier` iTXt and an XMP iTXt."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", texts.parameters)
    info.add_itxt(atelier.KEY, texts.record)
    info.add_itxt(xmp.PNG_KEY, xmp.build_packet(description=texts.description, created=texts.created))
    if image.mode not in ("RGB", "RGBA", "L", "LA", "I;16"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _exif_bytes(parameters: str) -> bytes:
    # A1111 (through piexif) writes "UNICODE\0" + UTF-16 big-endian as type UNDEFINED; exif_block does too.
    return exif_block.exif_bytes(parameters)


def lossy_bytes(image, texts: GenerationTexts, fmt: str, quality: int = 92) -> bytes:
    """A JPEG or WebP file with the A1111 text as EXIF UserComment and XMP holding Atelier's record."""
    exif = _exif_bytes(texts.parameters)
    if fmt == "JPEG" and len(exif) > _APP1_LIMIT:
        log.warning("settings text too long for JPEG EXIF; the A1111 text is left out (the XMP keeps it)")
        exif = b""
    packet = xmp.build_packet(description=texts.description, atelier_json=texts.record, created=texts.created)
    if fmt == "JPEG" and len(packet.encode("utf-8")) > _APP1_LIMIT:
        log.warning("Atelier's record too long for JPEG XMP; only the AI-generated mark is kept")
        packet = xmp.build_packet(created=texts.created)
    if fmt == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")  # JPEG has no alpha
    elif fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=quality, exif=exif, xmp=packet.encode("utf-8"))
    return buffer.getvalue()


def with_c2pa(data: bytes, fmt: str, key_dir: Path, title: str) -> bytes:
    """Signed when possible; when signing fails the image is still saved, unsigned, and the log says why."""
    from desktop.core.metadata import provenance

    try:
        return provenance.sign_image(data, fmt, Path(key_dir), title)
    except (RuntimeError, OSError, ValueError) as error:
        log.warning("saved %s without a C2PA manifest: %s", title, error)
        return data


def export_image(
    image,
    params: GenerationParams,
    path: str | Path,
    format: str | None = None,  # noqa: A002 - the word users and Pillow use
    *,
    model_name: str = "",
    model_hash: str = "",
    seconds: float | None = 0.0,
    extra: dict | None = None,
    quality: int = 92,
    c2pa_key_dir: Path | None = None,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Write `image` as PNG, JPEG or WebP (from `format` or the suffix) with all the metadata the format holds.

    With `c2pa_key_dir` (Settings.write_c2pa), a signed C2PA manifest is embedded too. `image_size`
    (the image's own size, when it is not the generation's) is what the metadata says the size is.
    Raises ValueError for an unknown format and OSError when the file cannot be written.
    """
    target = Path(path)
    fmt = (format or FORMATS.get(target.suffix.lower(), "")).upper().replace("JPG", "JPEG")
    if fmt not in ("PNG", "JPEG", "WEBP"):
        raise ValueError(f"cannot export {target.name}: choose a .png, .jpg or .webp file name")
    texts = generation_texts(params, model_name=model_name, model_hash=model_hash, seconds=seconds, extra=extra,
                             image_size=image_size)
    data = png_bytes(image, texts) if fmt == "PNG" else lossy_bytes(image, texts, fmt, quality)
    if c2pa_key_dir is not None:
        data = with_c2pa(data, fmt, c2pa_key_dir, target.name)
    write_bytes_atomic(target, data)
    return target
