"""Read a GGUF file's metadata and tensor table (llama.cpp's format) without loading any weights.

`gguf.GGUFReader` maps the whole file and turns every vocabulary entry into a numpy view: about 2 s
for a 100 MB file, too slow to list a folder of models on every rescan. This reader walks the
header once with plain reads, keeps the scalar and string values, skips big arrays (vocabulary,
merges) by their lengths, and reads the tensor table to count parameters, name the quantisation and
check that the file is complete. The type tables come from the `gguf` package (llama.cpp's own).
Every length is bounded, so a damaged or hostile file gives a GgufError, never a huge allocation.
The file is opened read-only and never written.
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"GGUF"
MAX_STRING_BYTES = 16 * 1024 * 1024  # chat templates run to tens of KB; nothing legitimate is 16 MB
MAX_KEYS = 100_000
MAX_TENSORS = 1_000_000
MAX_DIMS = 8
KEEP_STRING_ARRAY = 64  # short string arrays (languages, tags) are kept; vocabularies are only counted
DEFAULT_ALIGNMENT = 32

# GGUF value types (gguf.GGUFValueType): struct format of each scalar
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GgufError(ValueError):
    """A file that is not a usable GGUF, with what to do about it."""


@dataclass(frozen=True)
class GgufInfo:
    """What a GGUF file holds: its metadata, parameter count, quantisation, and whether it is whole."""

    path: str
    version: int
    metadata: dict  # scalar and string values, and short arrays; long arrays are in array_lengths
    array_lengths: dict = field(default_factory=dict)
    parameters: int = 0
    tensor_types: dict = field(default_factory=dict)  # type name -> elements stored in it
    file_size: int = 0
    problem: str = ""  # empty when the file is complete

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", "") or Path(self.path).stem)

    @property
    def context_length(self) -> int:
        value = self.metadata.get(f"{self.architecture}.context_length", 0)
        return int(value) if isinstance(value, (int, float)) else 0

    @property
    def chat_template(self) -> str:
        value = self.metadata.get("tokenizer.chat_template", "")
        return value if isinstance(value, str) else ""

    @property
    def quantization(self) -> str:
        """llama.cpp's name for the file's type (Q4_K_M, Q8_0, F16…); else the most used tensor type."""
        from gguf.constants import LlamaFileType

        file_type = self.metadata.get("general.file_type")
        if isinstance(file_type, int) and not isinstance(file_type, bool):
            try:
                name = LlamaFileType(file_type).name
            except ValueError:
                name = ""
            if name and name != "GUESSED":
                return name.removeprefix("MOSTLY_").removeprefix("ALL_")
        if not self.tensor_types:
            return ""
        quantized = {k: v for k, v in self.tensor_types.items() if k not in ("F32",)} or self.tensor_types
        return max(quantized, key=quantized.get)


class _Cursor:
    """Bounded little-endian reads from a file; every short read is a truncated file."""

    def __init__(self, handle, size: int, name: str) -> None:
        self.handle, self.size, self.name = handle, size, name

    def read(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) != count:
            raise GgufError(f"{self.name} is truncated inside its header: the download or copy did not finish; "
                            "fetch the file again")
        return data

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self, limit: int = MAX_STRING_BYTES) -> str:
        length = self.unpack("<Q")
        if length > limit:
            raise GgufError(f"{self.name} has a corrupt header (a {length:,}-byte text); the file is damaged")
        return self.read(length).decode("utf-8", errors="replace")

    def skip(self, count: int) -> None:
        if count <= 4096:  # reading through the buffer beats a seek, which drops it
            self.read(count)
            return
        position = self.handle.tell() + count
        if position > self.size:
            raise GgufError(f"{self.name} is truncated inside its header: fetch the file again")
        self.handle.seek(position)

    def value(self, kind: int, key: str, info: dict):
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind != _ARRAY:
            raise GgufError(f"{self.name} has a corrupt header (value type {kind} of {key!r}); the file is damaged")
        item, count = self.unpack("<I"), self.unpack("<Q")
        info["array_lengths"][key] = count
        if item in _SCALARS:
            width = struct.calcsize(_SCALARS[item])
            if count * width > self.size:
                raise GgufError(f"{self.name} has a corrupt header (array {key!r} is longer than the file)")
            if count <= KEEP_STRING_ARRAY:
                return [self.unpack(_SCALARS[item]) for _ in range(count)]
            self.skip(count * width)
            return None
        if item == _STRING:
            if count > self.size // 8:
                raise GgufError(f"{self.name} has a corrupt header (array {key!r} is longer than the file)")
            if count <= KEEP_STRING_ARRAY:
                return [self.string() for _ in range(count)]
            for _ in range(count):  # a vocabulary: only the lengths are read
                self.skip(self.unpack("<Q"))
            return None
        raise GgufError(f"{self.name} has a corrupt header (array of type {item} in {key!r}); the file is damaged")


def looks_like_gguf(path: str | Path) -> bool:
    """True for a file that starts with the GGUF magic (Ollama's blobs have no .gguf suffix)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


def read_gguf(path: str | Path) -> GgufInfo:
    """Parse a GGUF header and tensor table; raise GgufError for what cannot be read at all.

    A file whose tensors run past its end is returned with `problem` set (listed, not usable).
    """
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    path = Path(path)
    try:
        size = path.stat().st_size
        handle = open(path, "rb")
    except OSError as error:
        raise GgufError(f"cannot read {path}: {error.strerror or error}") from error
    with handle:
        cursor = _Cursor(handle, size, path.name)
        if size < 24 or cursor.read(4) != MAGIC:
            raise GgufError(f"{path.name} is not a GGUF file (it does not start with 'GGUF')")
        version = cursor.unpack("<I")
        if version not in (2, 3):
            raise GgufError(f"{path.name} is GGUF version {version}; Atelier reads versions 2 and 3 "
                            "(convert or download the file again with a current llama.cpp)")
        tensor_count, key_count = cursor.unpack("<Q"), cursor.unpack("<Q")
        if tensor_count > MAX_TENSORS or key_count > MAX_KEYS:
            raise GgufError(f"{path.name} has a corrupt header ({tensor_count:,} tensors, {key_count:,} keys)")
        info: dict = {"array_lengths": {}}
        metadata: dict = {}
        for _ in range(key_count):
            key = cursor.string(limit=65536)
            value = cursor.value(cursor.unpack("<I"), key, info)
            if value is not None:
                metadata[key] = value
        elements: Counter = Counter()
        data_end = 0
        unknown_size = False
        for _ in range(tensor_count):
            name = cursor.string(limit=65536)
            dims = cursor.unpack("<I")
            if dims > MAX_DIMS:
                raise GgufError(f"{path.name} has a corrupt tensor table ({name!r} has {dims} dimensions)")
            shape = [cursor.unpack("<Q") for _ in range(dims)]
            kind, offset = cursor.unpack("<I"), cursor.unpack("<Q")
            count = math.prod(shape)
            try:
                quant = GGMLQuantizationType(kind)
                type_name = quant.name
                block, block_bytes = GGML_QUANT_SIZES[quant]
                data_end = max(data_end, offset + count // block * block_bytes)
            except (ValueError, KeyError):
                type_name, unknown_size = f"type {kind}", True
            elements[type_name] += count
        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        alignment = alignment if isinstance(alignment, int) and 0 < alignment <= 1 << 20 else DEFAULT_ALIGNMENT
        data_start = -(-handle.tell() // alignment) * alignment
    problem = ""
    if not unknown_size and data_start + data_end > size:
        problem = (f"{path.name} is truncated: its tensors need {data_start + data_end:,} bytes but the file has "
                   f"{size:,}; the download or copy did not finish, fetch it again")
    return GgufInfo(str(path), version, metadata, info["array_lengths"], sum(elements.values()), dict(elements),
                    size, problem)
