"""Turn a GGUF chat model into a safetensors folder once, so that every later start takes seconds.

transformers reads a GGUF (`gguf_file=`) by dequantising every tensor in Python: half a minute for a
135 M-parameter model, many minutes for a 7 B one. The result is saved in the GGUF cache
(desktop.core.gguf_files) as an ordinary transformers folder with the file's own tokenizer, chat
template and context length, written under a temporary name and renamed when complete, so a kill
mid-way never leaves a folder that looks finished. The GGUF is only read.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from desktop.core.gguf_files import (CACHE_MARKER, SUPPORTED_ARCHITECTURES, architecture_problem, cache_folder,
                                     cached_folder, fingerprint)
from desktop.core.gguf_header import GgufError, read_gguf

FP32_SHARE = 0.4  # keep fp32 (exact, and the CPU's fastest) when it takes at most this share of free memory


class GgufConversionError(RuntimeError):
    """A GGUF that cannot be turned into a model; the message says why and what to do."""


def conversion_dtype(parameters: int, available_bytes: int) -> torch.dtype:
    """fp32 when it fits comfortably in memory, else bf16 (half the memory and the disk)."""
    return torch.float32 if parameters * 4 <= available_bytes * FP32_SHARE else torch.bfloat16


def estimate_gguf_memory(path: str | Path, context_tokens: int, dtype_bytes: int) -> int:
    """Bytes the model takes once loaded from its converted copy: weights plus a KV cache."""
    from desktop.engine.chat import kv_cache_bytes_per_token

    info = read_gguf(path)
    meta, arch = info.metadata, info.architecture
    config = {"num_hidden_layers": meta.get(f"{arch}.block_count", 0),
              "num_attention_heads": meta.get(f"{arch}.attention.head_count", 1) or 1,
              "num_key_value_heads": meta.get(f"{arch}.attention.head_count_kv"),
              "hidden_size": meta.get(f"{arch}.embedding_length", 0)}
    if isinstance(config["num_attention_heads"], list):  # per-layer head counts (some hybrids)
        config["num_attention_heads"] = max(config["num_attention_heads"]) or 1
    if isinstance(config["num_key_value_heads"], list):
        config["num_key_value_heads"] = max(config["num_key_value_heads"]) or None
    tokens = min(context_tokens, info.context_length or context_tokens)
    return info.parameters * dtype_bytes + tokens * kv_cache_bytes_per_token(config, dtype_bytes)


def ensure_converted(path: str | Path, available_bytes: int, root: Path | None = None,
                     on_status=None) -> tuple[Path, bool]:
    """The converted folder for this GGUF, converting first when there is none; (folder, converted now)."""
    path = Path(path)
    done = cached_folder(path, root)
    if done is not None:
        return done, False
    return convert(path, available_bytes, root, on_status), True


def convert(path: str | Path, available_bytes: int, root: Path | None = None, on_status=None) -> Path:
    path = Path(path).resolve()
    try:
        info = read_gguf(path)
    except GgufError as error:
        raise GgufConversionError(str(error)) from error
    if info.problem:
        raise GgufConversionError(info.problem)
    if architecture_problem(info.architecture):
        raise GgufConversionError(f"{path.name}: {architecture_problem(info.architecture)}")
    identity = fingerprint(path)
    target = cache_folder(path, root, identity)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    dtype = conversion_dtype(info.parameters, available_bytes)
    if on_status is not None:
        on_status(f"Converting {path.name} once ({info.quantization}, {info.parameters / 1e6:.0f} M parameters, "
                  f"to {str(dtype).removeprefix('torch.')}): this takes a while; the next start takes seconds")
    start = time.perf_counter()
    hf_logging.disable_progress_bar()
    try:
        # gguf_file as an absolute path: Ollama's blobs have no .gguf suffix and transformers reads it in place
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=str(path), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=str(path), dtype=dtype,
                                                     local_files_only=True)
    except Exception as error:  # transformers raises ValueError, OSError, KeyError… for files it cannot map
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GgufConversionError(f"cannot read the model in {path.name}: {first}") from error
    # the dequantised weights are plain tensors now; without this, save_pretrained would refuse or
    # write the GGUF quantizer's marker and the folder would not load as a normal model (facts.md)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        record = {"source": str(path), "fingerprint": identity, "quantization": info.quantization,
                  "architecture": info.architecture, "dtype": str(dtype).removeprefix("torch."),
                  "context_length": info.context_length, "seconds": round(time.perf_counter() - start, 1),
                  "created": time.time()}
        (partial / CACHE_MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)  # an unfinished earlier try (no marker)
        partial.replace(target)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise GgufConversionError(f"cannot save the converted copy of {path.name} in {target.parent}: "
                                  f"{error.strerror or error} (free some disk space, or set ATELIER_GGUF_CACHE to "
                                  "a folder on a larger drive)") from error
    finally:
        del model
    return target


def supported_by_transformers() -> set[str]:
    """transformers' own list of GGUF architectures (its keys, e.g. qwen2_moe): for the table's test."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return set(GGUF_SUPPORTED_ARCHITECTURES)


__all__ = ["GgufConversionError", "SUPPORTED_ARCHITECTURES", "convert", "conversion_dtype", "ensure_converted",
           "estimate_gguf_memory", "supported_by_transformers"]
