"""The text an image file carries: PNG text chunks, EXIF UserComment, XMP and JPEG comments.

PNG is read chunk by chunk without decoding pixels, with every size capped, so a hostile file
(zip bombs, lying lengths, text after the image end) costs at most a few megabytes and never hangs.
JPEG and WebP go through Pillow, which reads their metadata without decoding pixels either.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, Mapping

from desktop.core.metadata.coerce import MAX_TEXT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
_MAX_CHUNKS = 100_000  # real files have tens; a file of millions of empty chunks is an attack
_MAX_TEXT_CHUNKS = 1_000
EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
IMAGE_DESCRIPTION = 0x010E


@dataclass(frozen=True)
class ImageText:
    """Text fields found in one image file, and notes on what could not be read."""

    format: str = ""
    width: int | None = None
    height: int | None = None
    fields: Mapping[str, str] = field(default_factory=dict)  # PNG text chunks by keyword
    user_comment: str | None = None  # EXIF UserComment (A1111 writes its parameters here in JPEG/WebP)
    description: str | None = None  # EXIF ImageDescription
    comment: str | None = None  # JPEG COM segment
    xmp: str | None = None
    notes: tuple[str, ...] = ()
    has_c2pa: bool = False  # a C2PA manifest store (PNG `caBX` chunk) is embedded

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))


def read_image_text(path: str | Path) -> ImageText:
    """Never raises: a missing, unreadable or damaged file gives an ImageText whose notes say why."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            handle.seek(0)
            if head == PNG_SIGNATURE:
                return _read_png(handle)
    except OSError as error:
        return ImageText(notes=(f"cannot read {Path(path).name}: {error.strerror or error}",))
    return _read_with_pillow(path)


def _inflate(data: bytes, what: str, notes: list[str]) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT)
    except zlib.error:
        notes.append(f"{what}: compressed text is damaged")
        return None
    if inflater.unconsumed_tail:
        notes.append(f"{what}: compressed text is larger than 8 MB, skipped")
        return None
    return out


def _text_chunk(kind: bytes, data: bytes, notes: list[str]) -> tuple[str, str] | None:
    keyword, sep, rest = data.partition(b"\0")
    name = keyword[:79].decode("latin-1")
    if not sep or not keyword:
        notes.append(f"a {kind.decode()} chunk has no keyword, skipped")
        return None
    if kind == b"tEXt":
        return name, rest.decode("latin-1")
    if kind == b"zTXt":
        body = _inflate(rest[1:], f"text chunk {name!r}", notes)
        return None if body is None else (name, body.decode("latin-1"))
    if len(rest) < 2:
        notes.append(f"text chunk {name!r} is truncated")
        return None
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, body = rest.partition(b"\0")
    if compressed:
        body = _inflate(body, f"text chunk {name!r}", notes)
        if body is None:
            return None
    return name, body.decode("utf-8", errors="replace")


def _read_png(handle: BinaryIO) -> ImageText:
    notes: list[str] = []
    fields: dict[str, str] = {}
    width = height = None
    exif_data = None
    has_c2pa = False
    handle.seek(8)
    ended = False
    text_chunks = 0
    for _ in range(_MAX_CHUNKS):
        header = handle.read(8)
        if len(header) < 8:
            if not ended:
                notes.append("the file is truncated: the image ends early")
            break
        length, kind = struct.unpack(">I4s", header)
        if ended and kind not in _TEXT_CHUNKS:
            notes.append("data after the end of the image was ignored")
            break
        if length > 0x7FFFFFFF or not kind.isalpha():
            notes.append("a damaged chunk was found; the rest of the file was ignored")
            break
        if kind == b"IEND":
            ended = True
            handle.seek(length + 4, 1)
            continue
        if kind == b"caBX":
            has_c2pa = True
        if kind == b"IHDR" and length >= 8:
            width, height = struct.unpack(">II", handle.read(8))
            handle.seek(length - 8 + 4, 1)
        elif kind in _TEXT_CHUNKS or kind == b"eXIf":
            if length > MAX_TEXT:
                notes.append(f"a {kind.decode()} chunk of {length:,} bytes is too large, skipped")
                handle.seek(length + 4, 1)
                continue
            data = handle.read(length)
            crc = handle.read(4)
            if len(data) < length:
                notes.append("the file is truncated inside a text chunk")
                break
            if len(crc) == 4 and zlib.crc32(kind + data) != struct.unpack(">I", crc)[0]:
                notes.append(f"a {kind.decode()} chunk has a wrong checksum; read anyway")
            if kind == b"eXIf":
                exif_data = data
                continue
            text_chunks += 1
            if text_chunks > _MAX_TEXT_CHUNKS:
                notes.append(f"more than {_MAX_TEXT_CHUNKS} text chunks; the rest were ignored")
                break
            found = _text_chunk(kind, data, notes)
            if found:
                if ended:
                    notes.append(f"text chunk {found[0]!r} lies after the end of the image; read anyway")
                if found[0] in fields:
                    notes.append(f"text chunk {found[0]!r} appears twice; the first was used")
                else:
                    fields[found[0]] = found[1]
        else:
            handle.seek(length + 4, 1)
    else:
        notes.append(f"more than {_MAX_CHUNKS:,} chunks; the rest were ignored")
    user_comment = description = None
    if exif_data:
        user_comment, description = _exif_text(exif_data, notes)
    xmp = fields.pop("XML:com.adobe.xmp", None)
    return ImageText("PNG", width, height, fields, user_comment, description, None, xmp,
                     tuple(dict.fromkeys(notes)), has_c2pa)


def decode_user_comment(value: object) -> str | None:
    """EXIF UserComment: an 8-byte charset code, then the text. A1111 writes UTF-16 big-endian."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if not isinstance(value, (bytes, bytearray)) or not value:
        return None
    code, body = bytes(value[:8]), bytes(value[8 : 8 + 2 * MAX_TEXT])
    if code == b"UNICODE\0":
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            return body.decode("utf-16", errors="replace")
        sample = body[:400]
        # ASCII-heavy UTF-16: the zero bytes sit on even offsets in big-endian, odd in little-endian
        big = sample[0::2].count(0) >= sample[1::2].count(0)
        return body.decode("utf-16-be" if big else "utf-16-le", errors="replace")
    if code in (b"ASCII\0\0\0", b"\0" * 8):
        return body.decode("utf-8", errors="replace").rstrip("\0")
    if code.startswith(b"JIS"):
        return body.decode("shift_jis", errors="replace")
    return bytes(value[: MAX_TEXT]).decode("utf-8", errors="replace").rstrip("\0")  # no code: plain text


def _exif_text(exif: object, notes: list[str]) -> tuple[str | None, str | None]:
    """UserComment and ImageDescription from raw EXIF bytes or a Pillow Exif."""
    from PIL import Image

    try:
        if isinstance(exif, (bytes, bytearray)):
            loaded = Image.Exif()
            loaded.load(bytes(exif))
            exif = loaded
        comment = exif.get_ifd(EXIF_IFD).get(USER_COMMENT) or exif.get(USER_COMMENT)
        description = exif.get(IMAGE_DESCRIPTION)
    except Exception as error:  # noqa: BLE001 - Pillow raises many types on damaged EXIF
        notes.append(f"the EXIF data is damaged ({type(error).__name__}); skipped")
        return None, None
    if isinstance(description, bytes):
        description = description.decode("utf-8", errors="replace")
    return decode_user_comment(comment), description[:MAX_TEXT] if isinstance(description, str) else None


def _read_with_pillow(path: str | Path) -> ImageText:
    from PIL import Image, UnidentifiedImageError

    notes: list[str] = []
    try:
        with Image.open(path) as image:
            info = dict(image.info)
            fmt, (width, height) = image.format or "", image.size
            user_comment, description = _exif_text(image.getexif(), notes)
    except UnidentifiedImageError:
        return ImageText(notes=("not an image Atelier can read (PNG, JPEG or WebP)",))
    except Exception as error:  # noqa: BLE001 - damaged files make Pillow raise almost anything
        return ImageText(notes=(f"the image file is damaged ({type(error).__name__}: {str(error)[:200]})",))
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, (bytes, bytearray)):
        xmp = bytes(xmp[:MAX_TEXT]).decode("utf-8", errors="replace")
    comment = info.get("comment")
    if isinstance(comment, (bytes, bytearray)):
        comment = bytes(comment[:MAX_TEXT]).decode("utf-8", errors="replace")
    fields = {k: v[:MAX_TEXT] for k, v in info.items() if isinstance(k, str) and isinstance(v, str) and k != "xmp"}
    return ImageText(
        fmt, width, height, fields, user_comment, description,
        comment if isinstance(comment, str) else None, xmp if isinstance(xmp, str) else None, tuple(notes),
    )
