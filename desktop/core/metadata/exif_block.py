"""The EXIF block Atelier writes into JPEG and WebP: Software, and UserComment as EXIF 2.3 asks.

Pillow writes a bytes value in the Exif sub-IFD as type BYTE (1), because its tag table has no
type for UserComment there; exiv2 (GIMP, digiKam, darktable) then shows the prompt as a list of
numbers. The standard type is UNDEFINED (7) with an 8-byte character code first, which is what
A1111 writes through piexif. This module lays the few entries out itself (big-endian TIFF, the
byte order A1111's files use), so the types are the ones the standard names.
"""

from __future__ import annotations

import struct

EXIF_IFD_POINTER = 0x8769
SOFTWARE = 0x0131
USER_COMMENT = 0x9286
ASCII, LONG, UNDEFINED = 2, 4, 7
UNICODE_PREFIX = b"UNICODE\0"  # EXIF's character code for UCS-2 in the file's byte order


def user_comment_value(text: str) -> bytes:
    """UserComment bytes: the UNICODE character code, then UTF-16 in the file's (big-endian) order."""
    return UNICODE_PREFIX + text.encode("utf-16-be")


def _ifd(entries: list[tuple[int, int, int, bytes]], offset: int) -> bytes:
    """One IFD at `offset` (from the TIFF header): entries sorted by tag, values past 4 bytes after it."""
    entries = sorted(entries)
    table = struct.pack(">H", len(entries))
    data = b""
    data_offset = offset + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack(">HHII", tag, kind, count, data_offset + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")  # values start on a word boundary
    return table + struct.pack(">I", 0) + data


def exif_bytes(user_comment: str, software: str = "Atelier") -> bytes:
    """`Exif\\0\\0` + a TIFF structure with IFD0 (Software, Exif pointer) and the Exif IFD (UserComment).

    Pillow's `save(exif=...)` takes these bytes as they are for both JPEG (APP1) and WebP (EXIF chunk).
    """
    software_value = software.encode("ascii", "replace") + b"\0"
    ifd0_size = 2 + 12 * 2 + 4 + len(software_value) + len(software_value) % 2
    exif_offset = 8 + ifd0_size
    ifd0 = _ifd([(SOFTWARE, ASCII, len(software_value), software_value),
                 (EXIF_IFD_POINTER, LONG, 1, struct.pack(">I", exif_offset))], 8)
    comment = user_comment_value(user_comment)
    exif_ifd = _ifd([(USER_COMMENT, UNDEFINED, len(comment), comment)], exif_offset)
    return b"Exif\0\0" + b"MM\0\x2a" + struct.pack(">I", 8) + ifd0 + exif_ifd
