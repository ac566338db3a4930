"""Malformed and hostile files: recover what can be read, note what could not, never crash or hang."""

from __future__ import annotations

import json
import struct
import time
import zlib

import pytest
from PIL import Image

from desktop.core.metadata import NO_DATA, read_metadata
from desktop.core.metadata.coerce import MAX_PROMPT
from tests.core.metadata_samples import A1111_TEXT, png

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture
def plain_png(tmp_path) -> bytes:
    path = tmp_path / "plain.png"
    Image.new("RGB", (64, 64)).save(path)
    return path.read_bytes()


def _write(tmp_path, data: bytes, name="h.png"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read_quickly(path):
    start = time.perf_counter()
    info = read_metadata(path)
    assert time.perf_counter() - start < 3.0
    return info


def test_an_image_without_metadata(tmp_path, plain_png):
    info = _read_quickly(_write(tmp_path, plain_png))
    assert not info.found and NO_DATA in info.notes
    assert info.to_json_dict()["tool"] is None


def test_not_an_image_and_a_missing_file(tmp_path):
    assert "not an image" in " ".join(_read_quickly(_write(tmp_path, b"hello", "x.txt")).notes)
    assert "cannot read" in " ".join(_read_quickly(tmp_path / "missing.png").notes)


def test_compressed_text_bomb_is_skipped(tmp_path, plain_png):
    bomb = b"parameters\0\0" + zlib.compress(b"a" * (64 * 1024 * 1024), 9)  # 64 MB of 'a' in ~65 KB
    data = plain_png[:33] + chunk(b"zTXt", bomb) + plain_png[33:]
    info = _read_quickly(_write(tmp_path, data))
    assert not info.found and any("larger than 8 MB" in n for n in info.notes)


def test_a_chunk_that_lies_about_its_length(tmp_path, plain_png):
    data = plain_png[:33] + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"parameters\0x"
    info = _read_quickly(_write(tmp_path, data))
    assert any("too large" in n for n in info.notes)


def test_text_after_the_image_end_is_still_read(tmp_path, plain_png):
    data = plain_png + chunk(b"tEXt", b"parameters\0" + A1111_TEXT.encode())
    info = _read_quickly(_write(tmp_path, data))
    assert info.seed == 1234567890 and any("after the end" in n for n in info.notes)


def test_junk_after_the_image_end_is_noted(tmp_path):
    path = png(tmp_path / "p.png", {"parameters": A1111_TEXT})
    path.write_bytes(path.read_bytes() + b"Steps: 99, this is not a chunk" * 100)
    info = _read_quickly(path)
    assert info.steps == 28 and any("after the end of the image was ignored" in n for n in info.notes)


def test_wrong_checksum_and_truncation_still_give_the_text(tmp_path, plain_png):
    good = chunk(b"tEXt", b"parameters\0" + A1111_TEXT.encode())
    bad = good[:-4] + b"\0\0\0\0"
    info = _read_quickly(_write(tmp_path, plain_png[:33] + bad + plain_png[33:60]))
    assert info.seed == 1234567890
    assert any("checksum" in n for n in info.notes) and any("truncated" in n for n in info.notes)


def test_invalid_json_everywhere(tmp_path):
    path = png(tmp_path / "j.png", {"atelier": "{broken", "prompt": "[[[", "invokeai_metadata": "nul", "parameters": A1111_TEXT})
    info = _read_quickly(path)
    assert info.tool == "automatic1111" and info.seed == 1234567890  # the one readable source wins
    assert any("not valid Atelier JSON" in n for n in info.notes)


def test_deep_nesting_and_huge_numbers(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    path = png(tmp_path / "d.png", {"invokeai_metadata": deep, "prompt": '{"1": {"inputs": {"seed": ' + "9" * 5000 + "}}}"})
    info = _read_quickly(path)
    assert not info.found


def test_huge_prompt_is_cut_and_noted(tmp_path):
    text = "x" * (5 * 1024 * 1024) + "\nSteps: 4, Sampler: Euler, Seed: 3, Size: 64x64"
    info = _read_quickly(png(tmp_path / "big.png", {"parameters": text}))
    assert len(info.prompt) == MAX_PROMPT and info.seed == 3
    assert any("cut" in n for n in info.notes)


def test_xml_bomb_in_xmp_is_refused(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol2;</x:xmpmeta>')
    info = _read_quickly(png(tmp_path / "x.png", {"XML:com.adobe.xmp": bomb}, itxt=("XML:com.adobe.xmp",)))
    assert not info.found and "digital_source_type" not in info.extra


def test_wrong_types_in_an_atelier_record(tmp_path):
    record = {"format": "atelier.generation", "format_version": 1,
              "params": {"prompt": ["not", "text"], "seed": "12", "steps": 1e400, "width": {"a": 1}, "scheduler": 5}}
    info = _read_quickly(png(tmp_path / "a.png", {"atelier": json.dumps(record)}, itxt=("atelier",)))
    assert info.tool == "atelier" and info.prompt is None and info.atelier_params is None
    assert any("not all valid" in n for n in info.notes)
    info.adapt()  # still gives usable settings
