"""JPEG and WebP carry the A1111 text as EXIF UserComment the way exiv2 (GIMP, digiKam, darktable) reads it.

Read back with exiv2 itself (the pyexiv2 wheel bundles libexiv2), not with Atelier's own reader:
a UserComment written as type BYTE shows there as a list of numbers.
"""

from __future__ import annotations

import pytest
from PIL import Image

from desktop.core.metadata import read_metadata
from desktop.core.metadata.writer import export_image
from desktop.core.params import GenerationParams

pyexiv2 = pytest.importorskip("pyexiv2")  # in the test extra: installed by `make test`

PROMPT = "a fox, in the snow: ünïcode 猫"
# exiv2 decodes the UNICODE code as UCS-2, so a character outside the BMP (an emoji) makes it give up
# on the whole comment, for A1111's files as for ours; the UTF-16 is still right for A1111 and Atelier.
EMOJI_PROMPT = "a fox 🦊"


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_user_comment_is_text_to_exiv2(tmp_path, suffix):
    params = GenerationParams(prompt=PROMPT, negative_prompt="blur", seed=7, width=64, height=64)
    path = export_image(Image.new("RGB", (64, 64), "teal"), params, tmp_path / f"fox{suffix}", model_name="m")
    with pyexiv2.Image(str(path)) as image:
        exif = image.read_exif()
    comment = exif["Exif.Photo.UserComment"]
    # exiv2 names the character code, then gives the text (not "85 78 73 67 ..." as for type BYTE)
    assert comment.startswith("charset=Unicode ")
    text = comment.removeprefix("charset=Unicode ")
    assert text.startswith(PROMPT + "\nNegative prompt: blur\nSteps: ")
    assert "Seed: 7" in text
    assert exif["Exif.Image.Software"] == "Atelier"
    assert read_metadata(path).to_params() == params  # and our own reader agrees


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_characters_outside_the_bmp_survive_for_a1111_readers(tmp_path, suffix):
    params = GenerationParams(prompt=EMOJI_PROMPT, seed=7, width=64, height=64)
    path = export_image(Image.new("RGB", (64, 64)), params, tmp_path / f"fox{suffix}", model_name="m")
    assert read_metadata(path).prompt == EMOJI_PROMPT


def test_user_comment_has_the_standard_type_and_character_code():
    """EXIF 2.3: UserComment is UNDEFINED (7) with an 8-byte character code; checked on the bytes."""
    import struct

    from desktop.core.metadata.exif_block import exif_bytes

    data = exif_bytes("hi")
    tiff = data[6:]
    assert tiff[:4] == b"MM\0\x2a"
    ifd0 = struct.unpack(">I", tiff[4:8])[0]
    entries = {struct.unpack(">H", tiff[ifd0 + 2 + 12 * i: ifd0 + 4 + 12 * i])[0]: tiff[ifd0 + 2 + 12 * i: ifd0 + 14 + 12 * i]
               for i in range(struct.unpack(">H", tiff[ifd0:ifd0 + 2])[0])}
    exif_ifd = struct.unpack(">I", entries[0x8769][8:12])[0]
    tag, kind, count, offset = struct.unpack(">HHII", tiff[exif_ifd + 2: exif_ifd + 14])
    assert (tag, kind, count) == (0x9286, 7, 12)
    assert tiff[offset: offset + count] == b"UNICODE\0\0h\0i"
