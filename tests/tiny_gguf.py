"""Tiny GGUF files written with llama.cpp's own `gguf` writer, for tests that need many GGUF loads.

`write_chat_gguf` makes a two-layer Llama with random weights quantised to Q8_0 and the byte-level
BPE tokenizer (and ChatML template) of the tiny chat model, in the layout llama.cpp's converter
writes: transformers loads it through the same `gguf_file=` path as a downloaded model, in about a
second. The real-weights proof uses SmolLM2's GGUF (tests/gguf_fixtures.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DIM, FF, LAYERS, HEADS, KV_HEADS = 64, 128, 2, 4, 2


def _tokenizer_fields():
    from desktop.engine.tiny_models import chat_tokenizer

    tokenizer = chat_tokenizer()
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab = state["model"]["vocab"]
    tokens = [""] * len(tokenizer)
    for token, index in vocab.items():
        tokens[index] = token
    specials = {t["id"]: t["content"] for t in state["added_tokens"]}
    for index, token in specials.items():
        tokens[index] = token
    merges = [m if isinstance(m, str) else " ".join(m) for m in state["model"]["merges"]]
    types = [3 if i in specials else 1 for i in range(len(tokens))]  # 3: control tokens
    return tokenizer, tokens, types, merges


def write_chat_gguf(path: str | Path, *, seed: int = 0, context_length: int = 512, name: str = "tiny chat",
                    quantize: bool = True, file_type: int | None = None) -> Path:
    from gguf import GGMLQuantizationType, GGUFWriter
    from gguf.quants import quantize as quantize_array

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer, tokens, types, merges = _tokenizer_fields()
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_context_length(context_length)
    writer.add_embedding_length(DIM)
    writer.add_feed_forward_length(FF)
    writer.add_block_count(LAYERS)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(DIM // HEADS)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(file_type if file_type is not None else (7 if quantize else 0))  # MOSTLY_Q8_0 / ALL_F32
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
    writer.add_chat_template(tokenizer.chat_template)

    def tensor(name: str, shape: tuple[int, ...]) -> None:
        data = (rng.standard_normal(shape) * 0.05).astype(np.float32)
        if quantize and len(shape) == 2:
            packed = quantize_array(data, GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, packed, raw_shape=packed.shape, raw_dtype=GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(name, data if len(shape) == 2 else np.ones(shape, np.float32))

    head_dim = DIM // HEADS
    tensor("token_embd.weight", (len(tokens), DIM))
    for block in range(LAYERS):
        tensor(f"blk.{block}.attn_norm.weight", (DIM,))
        tensor(f"blk.{block}.attn_q.weight", (HEADS * head_dim, DIM))
        tensor(f"blk.{block}.attn_k.weight", (KV_HEADS * head_dim, DIM))
        tensor(f"blk.{block}.attn_v.weight", (KV_HEADS * head_dim, DIM))
        tensor(f"blk.{block}.attn_output.weight", (DIM, HEADS * head_dim))
        tensor(f"blk.{block}.ffn_norm.weight", (DIM,))
        tensor(f"blk.{block}.ffn_gate.weight", (FF, DIM))
        tensor(f"blk.{block}.ffn_up.weight", (FF, DIM))
        tensor(f"blk.{block}.ffn_down.weight", (DIM, FF))
    tensor("output_norm.weight", (DIM,))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_metadata_only_gguf(path: str | Path, architecture: str = "llama", name: str = "meta only",
                             file_type: int = 15, context_length: int = 4096) -> Path:
    """A small valid GGUF with one tensor, for discovery tests (what the Models window shows)."""
    from gguf import GGUFWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(str(path), architecture)
    writer.add_name(name)
    writer.add_file_type(file_type)
    writer.add_context_length(context_length)
    writer.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    writer.add_tensor("token_embd.weight", np.zeros((8, 32), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
