"""Opening images: every supported format as RGBA, EXIF orientation, and clear errors for bad files."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from desktop.core.image_io import (
    MAX_SIDE,
    ImageLoadError,
    check_image_size,
    encode_png,
    load_image,
    load_image_bytes,
    pixel_limit,
)


def picture(width=24, height=16) -> Image.Image:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = (250, 10, 10)
    pixels[:, width // 2 :] = (10, 10, 250)
    return Image.fromarray(pixels)


@pytest.mark.parametrize("fmt, suffix", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tif"), ("GIF", "gif")])
def test_every_supported_format_opens_as_rgba(tmp_path, fmt, suffix):
    path = tmp_path / f"image.{suffix}"
    picture().save(path, format=fmt)
    pixels = load_image(path)
    assert pixels.shape == (16, 24, 4) and pixels.dtype == np.uint8
    assert np.all(pixels[..., 3] == 255)
    assert pixels[8, 2, 0] > 200 and pixels[8, 21, 2] > 200  # red left, blue right, whatever the codec


def test_transparency_survives(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4] = (1, 2, 3, 255)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba).save(path)
    assert np.array_equal(load_image(path), rgba)
    palette = Image.fromarray(rgba[..., :3]).convert("P")
    palette.info["transparency"] = int(palette.getpixel((0, 7)))
    palette.save(tmp_path / "palette.png", transparency=palette.info["transparency"])
    assert load_image(tmp_path / "palette.png")[7, 0, 3] == 0


def test_exif_orientation_is_applied(tmp_path):
    image = picture(24, 16)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    path = tmp_path / "phone.jpg"
    image.save(path, format="JPEG", exif=exif)
    pixels = load_image(path)
    assert pixels.shape == (24, 16, 4)
    assert pixels[2, 8, 0] > 200 and pixels[21, 8, 2] > 200  # the red half is now on top


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 32768, 65535]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert load_image(path)[0, :, 0].tolist() == [0, 128, 255]


def test_cmyk_jpeg_opens(tmp_path):
    path = tmp_path / "print.jpg"
    picture().convert("CMYK").save(path, format="JPEG")
    assert load_image(path).shape == (16, 24, 4)


def test_a_truncated_image_is_reported_as_damaged(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[:2000])
    with pytest.raises(ImageLoadError, match="cut.png is damaged or incomplete"):
        load_image(path)
    jpeg = io.BytesIO()
    picture(64, 64).save(jpeg, format="JPEG")
    with pytest.raises(ImageLoadError, match="damaged"):
        load_image_bytes(jpeg.getvalue()[:300], "cut.jpg")


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty"), (b"just some text, not an image", "not an image Atelier can read"), (b"\x89PNG\r\n\x1a\n\0\0", "damaged")],
)
def test_bad_bytes_give_a_clear_message(data, message):
    with pytest.raises(ImageLoadError, match=message):
        load_image_bytes(data, "clip")


def test_missing_files_folders_and_other_formats(tmp_path):
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image(tmp_path / "gone.png")
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)
    path = tmp_path / "old.ppm"
    picture().save(path, format="PPM")
    with pytest.raises(ImageLoadError, match="PPM image, which Atelier does not open"):
        load_image(path)


def header_only_png(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: only its header can be read, as a guard must."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)) + chunk(b"IEND", b"")


def test_an_image_too_large_for_memory_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(header_only_png(30000, 30000))
    started = time.perf_counter()
    with pytest.raises(ImageLoadError, match=f"huge.png is too large \\(900 megapixels\\); Atelier handles at most {MAX_SIDE}"):
        load_image(path)
    path.write_bytes(header_only_png(20000, 100))
    with pytest.raises(ImageLoadError, match=f"huge.png is 20000x100 pixels; Atelier handles at most {MAX_SIDE} pixels per side"):
        load_image(path)
    assert time.perf_counter() - started < 1.0  # refused from the header, nothing decoded
    side = int(pixel_limit() ** 0.5) + 2
    with pytest.raises(ImageLoadError, match="megapixels"):
        check_image_size(side, side)
    check_image_size(4096, 4096)


def test_encode_png_round_trips():
    rgba = np.random.default_rng(2).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    assert np.array_equal(load_image_bytes(encode_png(rgba, 1)), rgba)
