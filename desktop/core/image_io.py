"""Opening images safely: size checked before decoding, damage reported clearly, always RGBA out."""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 16384
# What one canvas pixel costs while editing: the layer (4 bytes), an undo copy and the display
# image (4 each), the mask (1), the decode buffer (4) and compositing scratch; rounded up.
BYTES_PER_PIXEL = 24
SUPPORTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "BMP": "BMP", "TIFF": "TIFF", "GIF": "GIF"}
FILE_PATTERNS = ("*.png", "*.jpg", "*.jpeg", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.gif")


class ImageLoadError(ValueError):
    """An image cannot be opened; the message names the file, the reason and what to do."""


def pixel_limit() -> int:
    """The most pixels one image may have here: bounded by free memory and by Pillow's bomb guard."""
    limit = MAX_SIDE * MAX_SIDE
    if Image.MAX_IMAGE_PIXELS:  # Pillow refuses twice this outright as a decompression bomb
        limit = min(limit, 2 * int(Image.MAX_IMAGE_PIXELS))
    try:
        import psutil

        limit = min(limit, psutil.virtual_memory().available // BYTES_PER_PIXEL)
    except Exception:  # no psutil or no answer: keep the fixed caps
        pass
    return max(int(limit), 1024 * 1024)


def check_image_size(
    width: int, height: int, what: str = "The image", advice: str = "Scale it down in another program first."
) -> None:
    """Refuse sizes past the limits, naming them, before a single pixel is decoded."""
    if width > MAX_SIDE or height > MAX_SIDE or width * height > pixel_limit():
        raise ImageLoadError(f"{what} is {width}x{height} pixels; {_limits(advice)}")


def _limits(advice: str) -> str:
    return (
        f"Atelier handles at most {MAX_SIDE} pixels per side and {pixel_limit() / 1e6:.0f} megapixels in all "
        f"on this machine (limited by free memory). {advice}"
    )


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read PNG, JPEG, WebP, BMP, TIFF or GIF (first frame) as H x W x 4 uint8, upright per EXIF."""
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path} does not exist; check the name or pick the file again")
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageLoadError(f"cannot read {path}: {error.strerror or error}") from None
    return load_image_bytes(data, path.name)


def load_image_bytes(data: bytes, name: str = "the pasted image") -> np.ndarray:
    """Decode image bytes (a file's content, a clipboard, a zip member) the same safe way."""
    if not data:
        raise ImageLoadError(f"{name} is empty (0 bytes); it may not have finished downloading or saving")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        # Pillow refuses such sizes from the header alone, before we can ask: always past our limit too.
        counted = re.search(r"\((\d+) pixels\)", str(error))
        size = f" ({int(counted.group(1)) / 1e6:.0f} megapixels)" if counted else ""
        raise ImageLoadError(f"{name} is too large{size}; {_limits('Scale it down in another program first.')}") from None
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"{name} is not an image Atelier can read, or it is damaged. "
            f"Atelier opens {', '.join(SUPPORTED_FORMATS.values())}."
        ) from None
    except Exception as error:  # a broken header can raise almost anything inside a Pillow plugin
        raise ImageLoadError(f"{name} is damaged and cannot be opened ({error})") from None
    with image:
        if image.format not in SUPPORTED_FORMATS:
            raise ImageLoadError(
                f"{name} is a {image.format} image, which Atelier does not open; "
                f"save it as PNG (or {', '.join(SUPPORTED_FORMATS.values())}) and open that"
            )
        check_image_size(image.width, image.height, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we checked the size
                image.load()
                return to_rgba(ImageOps.exif_transpose(image))
        except MemoryError:
            raise ImageLoadError(
                f"not enough free memory to open {name} ({image.width}x{image.height}); close other programs "
                "or scale it down first"
            ) from None
        except Exception as error:
            raise ImageLoadError(
                f"{name} is damaged or incomplete and cannot be opened ({error}); re-export it or use another copy"
            ) from None


def to_rgba(image: Image.Image) -> np.ndarray:
    """Any Pillow mode as H x W x 4 uint8 (16-bit and float images scaled, not clipped)."""
    if image.mode.startswith("I") or image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I") and values.max(initial=0) > 255 else 255.0
        if image.mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0
        grey = np.rint(np.clip(values / top, 0.0, 1.0) * 255.0).astype(np.uint8)
        image = Image.fromarray(grey)
    if image.mode not in ("RGBA", "RGB", "L", "LA", "P", "PA", "1"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB and the like go through RGB
    return np.asarray(image.convert("RGBA"), dtype=np.uint8).copy()


def encode_png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of an RGBA, RGB or grey uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
