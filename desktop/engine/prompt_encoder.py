"""Prompts encoded the way AUTOMATIC1111 encodes them: weights, BREAK, and 75-token chunks.

Plain diffusers cuts a prompt at 77 tokens and reads `(word:1.3)` as text. A1111 (and the prompts
people paste from model sites, which were tuned there) splits the tokens into chunks of 75, wraps
each as BOS + 75 + EOS, encodes the chunks separately and concatenates them; each token's features
are multiplied by its weight and the chunk's mean is then restored. SDXL does this for both text
encoders (penultimate hidden states, concatenated) and takes the pooled embedding from the first
chunk of the second encoder. The negative prompt is padded with empty chunks to the same count.

Why not compel (already a dependency): compel speaks its own syntax and its own arithmetic. It
weights a token by moving it away from the empty prompt's embedding (`empty + (z - empty) * w`),
downweights by blending with the prompt that lacks the words, and has no BREAK; so `(red:1.3)`
translated to compel's `(red)1.3` gives other numbers than A1111 does
(tests/engine/test_prompt_encoder.py::test_compel_weights_differ_from_a1111 measures it).

A plain prompt (no emphasis, no BREAK, at most 75 tokens) never comes here: the pipeline encodes
it itself, as before (`needs_chunked_encoding`). With every weight 1.0 the chunk path returns the
pipeline's own tensors bit for bit (tests check both families).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from desktop.core.prompt_weights import Fragment, is_plain, parse_weights

CHUNK = 75  # tokens per chunk between BOS and EOS
COMMA_BACKTRACK = 20  # A1111's default: a full chunk breaks after a comma this close to its end


@dataclass
class Chunk:
    """75 token ids at most and one weight per id (BOS, EOS and padding are added when encoding)."""

    tokens: list[int]
    weights: list[float]


def tokenize_chunks(tokenizer, fragments: list[Fragment]) -> list[Chunk]:
    """The fragments' tokens in A1111's chunks: BREAK ends a chunk; a full one breaks after a late comma."""
    comma_ids = tokenizer(",", add_special_tokens=False).input_ids
    comma = comma_ids[0] if len(comma_ids) == 1 else None
    chunks: list[Chunk] = []
    current = Chunk([], [])
    last_comma = -1

    def close() -> None:
        nonlocal current, last_comma
        chunks.append(current)
        current, last_comma = Chunk([], []), -1

    for fragment in fragments:
        if fragment.is_break:
            close()
            continue
        ids = tokenizer(fragment.text, truncation=False, add_special_tokens=False).input_ids if fragment.text else []
        for token in ids:
            if comma is not None and token == comma:
                last_comma = len(current.tokens)
            elif len(current.tokens) == CHUNK and last_comma != -1 and CHUNK - last_comma <= COMMA_BACKTRACK:
                cut = last_comma + 1  # carry the words after the comma into the next chunk
                moved = Chunk(current.tokens[cut:], current.weights[cut:])
                current.tokens, current.weights = current.tokens[:cut], current.weights[:cut]
                close()
                current = moved
            if len(current.tokens) == CHUNK:
                close()
            current.tokens.append(token)
            current.weights.append(fragment.weight)
    if current.tokens or not chunks:
        close()
    return chunks


def token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, truncation=False, add_special_tokens=False).input_ids) if text else 0


def needs_chunked_encoding(pipe, *prompts: str) -> bool:
    """False when every prompt is plain and fits one chunk: the pipeline's own encoding is used, as before."""
    tokenizers = [t for t in (getattr(pipe, "tokenizer", None), getattr(pipe, "tokenizer_2", None)) if t is not None]
    for prompt in prompts:
        if not is_plain(prompt):
            return True
        if any(token_count(tokenizer, prompt) > CHUNK for tokenizer in tokenizers):
            return True
    return False


def _chunk_ids(tokenizer, chunk: Chunk) -> tuple[list[int], list[float]]:
    """BOS + tokens + EOS + padding (A1111 pads after the EOS with the tokenizer's pad id, like diffusers)."""
    pad = CHUNK - len(chunk.tokens)
    ids = [tokenizer.bos_token_id, *chunk.tokens, tokenizer.eos_token_id] + [tokenizer.pad_token_id] * pad
    return ids, [1.0, *chunk.weights, 1.0] + [1.0] * pad


def _weighted(z: torch.Tensor, weights: list[float]) -> torch.Tensor:
    """A1111's emphasis: scale each token's features by its weight, then restore the chunk's mean."""
    if all(w == 1.0 for w in weights):
        return z
    original_mean = z.mean()
    z = z * torch.tensor(weights, dtype=z.dtype, device=z.device).reshape(1, -1, 1)
    return z * (original_mean / z.mean())


def _encode_chunks(encoder, tokenizer, chunks: list[Chunk], penultimate: bool, device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(features of all chunks concatenated along the tokens, pooled embedding of the first chunk or None)."""
    parts, pooled = [], None
    for index, chunk in enumerate(chunks):
        ids, weights = _chunk_ids(tokenizer, chunk)
        output = encoder(torch.tensor([ids], device=device), output_hidden_states=penultimate)
        z = output.hidden_states[-2] if penultimate else output[0]
        if index == 0 and output[0].ndim == 2:  # a text encoder with projection: its text_embeds
            pooled = output[0]
        parts.append(_weighted(z, weights))
    return torch.cat(parts, dim=1), pooled


def _padded(chunks: list[Chunk], count: int) -> list[Chunk]:
    return chunks + [Chunk([], []) for _ in range(count - len(chunks))]


@dataclass
class EncodedPrompts:
    """What the pipeline call takes instead of prompt strings; `region_tokens` are the token spans of the
    extra prompts appended after the main prompt (for regional attention), in sequence order."""

    call: dict
    main_tokens: int
    negative_tokens: int
    region_tokens: list[tuple[int, int]]


def encode_prompts(pipe, prompt: str, negative: str, extra_prompts: tuple[str, ...] = ()) -> EncodedPrompts:
    """Encode the prompt (then each extra prompt, appended along the token axis) and the negative prompt.

    The negative is padded with empty chunks to the main prompt's chunk count (and the main prompt to the
    negative's). SDXL with an empty negative and `force_zeros_for_empty_prompt` gets zeros, as in diffusers.
    """
    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    device = pipe._execution_device
    tokenizers = [pipe.tokenizer, pipe.tokenizer_2] if sdxl else [pipe.tokenizer]
    encoders = [pipe.text_encoder, pipe.text_encoder_2] if sdxl else [pipe.text_encoder]

    def chunked(text: str) -> list[list[Chunk]]:
        fragments = parse_weights(text)
        return [tokenize_chunks(tokenizer, fragments) for tokenizer in tokenizers]

    main, negative_chunks = chunked(prompt), chunked(negative)
    count = max(len(c) for c in main + negative_chunks)
    main = [_padded(c, count) for c in main]
    negative_chunks = [_padded(c, count) for c in negative_chunks]
    extras = []
    for text in extra_prompts:
        per_tokenizer = chunked(text)
        length = max(len(c) for c in per_tokenizer)
        extras.append([_padded(c, length) for c in per_tokenizer])

    def encode(chunk_lists: list[list[Chunk]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        features, pooled = [], None
        for encoder, tokenizer, chunks in zip(encoders, tokenizers, chunk_lists):
            z, first_pooled = _encode_chunks(encoder, tokenizer, chunks, penultimate=sdxl, device=device)
            features.append(z)
            pooled = first_pooled if first_pooled is not None else pooled
        return torch.cat(features, dim=-1), pooled

    embeds, pooled = encode(main)
    main_tokens = embeds.shape[1]
    spans = []
    for chunk_lists in extras:
        extra, _pooled = encode(chunk_lists)
        spans.append((embeds.shape[1], embeds.shape[1] + extra.shape[1]))
        embeds = torch.cat([embeds, extra], dim=1)
    zero_negative = sdxl and not negative and pipe.config.get("force_zeros_for_empty_prompt", False)
    if zero_negative:
        negative_embeds = torch.zeros_like(embeds[:, :main_tokens])
        negative_pooled = torch.zeros_like(pooled)
    else:
        negative_embeds, negative_pooled = encode(negative_chunks)
    negative_tokens = negative_embeds.shape[1]
    if embeds.shape[1] > negative_tokens:  # regions: the negative half attends to its own tokens only
        filler = negative_embeds[:, -1:].expand(-1, embeds.shape[1] - negative_tokens, -1)
        negative_embeds = torch.cat([negative_embeds, filler], dim=1)
    call = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}
    if sdxl:
        call.update(pooled_prompt_embeds=pooled, negative_pooled_prompt_embeds=negative_pooled)
    return EncodedPrompts(call, main_tokens, negative_tokens, spans)
