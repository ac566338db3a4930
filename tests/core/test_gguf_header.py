"""The GGUF header reader agrees with llama.cpp's own reader and refuses damaged files plainly."""

import struct

import pytest
from tiny_gguf import write_chat_gguf, write_metadata_only_gguf

from desktop.core.gguf_files import gguf_entry
from desktop.core.gguf_header import GgufError, looks_like_gguf, read_gguf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_chat_gguf(tmp_path_factory.mktemp("gguf") / "tiny-chat.Q8_0.gguf", context_length=384)


def test_matches_gguf_reader(tiny):
    from gguf import GGUFReader

    info = read_gguf(tiny)
    reader = GGUFReader(str(tiny))
    assert info.architecture == "llama" and info.context_length == 384 and info.quantization == "Q8_0"
    assert info.parameters == sum(int(t.n_elements) for t in reader.tensors)
    assert info.chat_template == reader.fields["tokenizer.chat_template"].contents()
    assert info.array_lengths["tokenizer.ggml.tokens"] == len(reader.fields["tokenizer.ggml.tokens"].data)
    assert info.metadata["llama.block_count"] == reader.fields["llama.block_count"].contents()
    assert not info.problem and looks_like_gguf(tiny)


def test_quantisation_name_comes_from_the_file_type_or_the_tensors(tmp_path):
    assert read_gguf(write_metadata_only_gguf(tmp_path / "a.gguf", file_type=15)).quantization == "Q4_K_M"
    assert read_gguf(write_metadata_only_gguf(tmp_path / "b.gguf", file_type=1)).quantization == "F16"
    unknown = read_gguf(write_metadata_only_gguf(tmp_path / "c.gguf", file_type=1024))  # GUESSED: look at tensors
    assert unknown.quantization == "F32"


def test_truncated_file_is_listed_with_the_reason(tiny, tmp_path):
    half = tmp_path / "half.gguf"
    half.write_bytes(tiny.read_bytes()[: tiny.stat().st_size - 1000])
    assert "truncated" in read_gguf(half).problem
    entry = gguf_entry(half, "test")
    assert not entry.usable and "fetch it again" in entry.problem
    cut_in_header = tmp_path / "cut.gguf"
    cut_in_header.write_bytes(tiny.read_bytes()[:200])
    with pytest.raises(GgufError, match="truncated"):
        read_gguf(cut_in_header)


@pytest.mark.parametrize("content, message", [
    (b"not a gguf at all, just text" * 3, "not a GGUF"),
    (b"GGUF" + struct.pack("<I", 1) + b"\0" * 40, "version 1"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 40) + b"\0" * 16, "corrupt header"),
    (b"GGUF" + struct.pack("<IQQ", 3, 1 << 50, 0) + b"\0" * 16, "corrupt header"),
])
def test_damaged_or_hostile_headers(tmp_path, content, message):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GgufError, match=message):
        read_gguf(path)
    assert "GGUF" in gguf_entry(path, "test").quantization and not gguf_entry(path, "test").usable


def test_unsupported_architecture_is_said(tmp_path):
    entry = gguf_entry(write_metadata_only_gguf(tmp_path / "bert.gguf", architecture="bert"), "test")
    assert not entry.usable and "architecture (bert)" in entry.problem
