"""GGUF chat models: converted once into a safetensors folder, loaded from it after, the GGUF untouched."""

import os
import time

import pytest
import torch

from desktop.core.gguf_files import CACHE_MARKER, SUPPORTED_ARCHITECTURES, cache_record, cached_folder, drop_cache
from desktop.core.gguf_header import read_gguf
from desktop.core.models import CHAT, discover_models
from desktop.engine.chat import ChatEngine, ChatModelError
from desktop.engine.gguf_convert import conversion_dtype, ensure_converted, supported_by_transformers


def _state(path):
    return path.read_bytes(), path.stat().st_mtime_ns


def test_tiny_gguf_converts_once_then_loads_from_its_copy(tiny_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(tmp_path / "cache"))
    before = _state(tiny_gguf)
    statuses = []
    engine = ChatEngine.load(tiny_gguf, on_status=statuses.append)
    assert engine.path == str(tiny_gguf) and any("Converting tiny-chat.Q8_0.gguf once" in s for s in statuses)
    folder = cached_folder(tiny_gguf)
    assert folder is not None and folder.parent == tmp_path / "cache"
    record = cache_record(folder)
    assert record["quantization"] == "Q8_0" and record["dtype"] == "float32" and record["source"] == str(tiny_gguf)
    # the chat template and the context length come from the file
    info = read_gguf(tiny_gguf)
    assert engine.tokenizer.chat_template == info.chat_template
    assert engine.context_length == info.context_length == 512
    reply = engine.reply([{"role": "user", "content": "hello fox"}], temperature=0, max_new_tokens=4)
    assert isinstance(reply, str)
    statuses.clear()
    again = ChatEngine.load(tiny_gguf, on_status=statuses.append)
    assert statuses == []  # no conversion the second time
    assert again.reply([{"role": "user", "content": "hello fox"}], temperature=0, max_new_tokens=4) == reply
    assert _state(tiny_gguf) == before  # never modified
    assert not list((tmp_path / "cache").glob(".*partial*"))


def test_an_unfinished_conversion_is_redone_and_dropping_the_cache_keeps_the_gguf(tiny_gguf, tmp_path):
    root = tmp_path / "cache"
    folder, converted = ensure_converted(tiny_gguf, 1 << 30, root)
    assert converted
    (folder / CACHE_MARKER).unlink()  # as if the app was killed before the conversion finished
    assert cached_folder(tiny_gguf, root) is None
    folder, converted = ensure_converted(tiny_gguf, 1 << 30, root)
    assert converted and (folder / CACHE_MARKER).is_file()
    assert drop_cache(tiny_gguf, root) > 100_000
    assert not folder.exists() and tiny_gguf.is_file()


def test_the_copy_is_found_by_content_after_a_move(tiny_gguf, tmp_path):
    root = tmp_path / "cache"
    ensure_converted(tiny_gguf, 1 << 30, root)
    moved = tmp_path / "elsewhere" / tiny_gguf.name
    moved.parent.mkdir()
    os.link(tiny_gguf, moved)  # same bytes at another place
    assert cached_folder(moved, root) == cached_folder(tiny_gguf, root)


def test_damaged_gguf_is_refused_plainly(tiny_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(tmp_path / "cache"))
    half = tmp_path / "half.gguf"
    half.write_bytes(tiny_gguf.read_bytes()[:-5000])
    with pytest.raises(ChatModelError, match="truncated"):
        ChatEngine.load(half)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ChatModelError, match="not a GGUF chat model"):
        ChatEngine.load(text)


def test_precision_by_memory():
    assert conversion_dtype(135_000_000, 16 << 30) == torch.float32
    assert conversion_dtype(7_000_000_000, 16 << 30) == torch.bfloat16


def test_architecture_table_matches_transformers():
    theirs = supported_by_transformers()
    assert set(SUPPORTED_ARCHITECTURES.values()) <= theirs
    not_chat = {"general", "tokenizer", "t5", "umt5"}  # metadata sections and encoder-decoder models
    assert theirs - not_chat <= set(SUPPORTED_ARCHITECTURES.values())


def test_smollm2_real_weights_discover_load_cache_reply(smollm2_converted, gguf_cache, tmp_path):
    """The real GGUF: found in a folder, converted once, answers with its own tokenizer and template."""
    models = tmp_path / "models"
    models.mkdir()
    os.link(smollm2_converted.gguf, models / smollm2_converted.gguf.name)  # in place: no copy
    entry = next(e for e in discover_models([models]) if e.kind == CHAT)
    assert entry.usable and entry.family == "llama" and entry.quantization == "GGUF Q4_1"
    assert entry.cache_path == str(smollm2_converted.folder) and entry.cache_bytes > 200_000_000
    statuses = []
    start = time.perf_counter()
    engine = ChatEngine.load(entry.path, on_status=statuses.append)
    second_load_s = time.perf_counter() - start
    assert statuses == []  # loaded from the cache: nothing dequantised
    assert engine.context_length == 8192  # llama.context_length in the file
    assert "<|im_start|>" in engine.tokenizer.chat_template  # the file's own ChatML template
    reply = engine.reply([{"role": "user", "content": "What is the capital of France?"}], temperature=0,
                         max_new_tokens=10)
    assert "Paris" in reply  # "The capital of France is Paris."
    print(f"\nSmolLM2 GGUF: first load {smollm2_converted.first_load_s:.1f} s (dequantise + save), "
          f"second {second_load_s:.1f} s from the cache (x{smollm2_converted.first_load_s / second_load_s:.1f})")
    assert second_load_s * 2 < smollm2_converted.first_load_s  # typically x5-x10; x2 leaves room for a busy CPU
