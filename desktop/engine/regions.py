"""Regional prompts in the cross-attention: inside a region's mask the picture reads that region's prompt.

All prompts are encoded into one token sequence (main prompt, then each region's; prompt_encoder.py). An
attention processor on every cross-attention layer (UNet and ControlNets) masks the tokens per pixel: a
pixel inside region r attends to region r's tokens only (to the tokens of every region it lies in where
they overlap), a pixel outside every region attends to the main prompt's, and the unconditional half of a
guided batch attends to the negative prompt's tokens alone, so it is exactly the plain negative. Masks are
scaled to each layer's resolution (the UNet halves the latent size per level, rounding up), as InvokeAI
and Krita do it. Nothing is changed outside the `regions_applied` block.
"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F


class RegionLayout:
    """Which tokens each pixel may read, at every resolution the network asks for (built once per size)."""

    def __init__(self, masks: torch.Tensor, main_tokens: int, negative_tokens: int, spans: list[tuple[int, int]],
                 total_tokens: int, guided: bool) -> None:
        self.masks = masks.float()  # (regions, h, w) at the latent size, 1 = inside
        self.main_tokens, self.negative_tokens = main_tokens, negative_tokens
        self.guided = guided  # the batch is [negative half, positive half] (classifier-free guidance)
        self.spans, self.total = spans, total_tokens
        self._cache: dict[tuple, torch.Tensor] = {}

    def _grid(self, queries: int) -> tuple[int, int]:
        height, width = self.masks.shape[-2:]
        for level in range(8):
            h, w = math.ceil(height / 2**level), math.ceil(width / 2**level)
            if h * w == queries:
                return h, w
        raise RuntimeError(f"no latent level has {queries} positions (latent {height}x{width})")

    def bias(self, queries: int, batch: int, dtype: torch.dtype, device) -> torch.Tensor:
        """An additive attention bias (batch, 1, queries, tokens): 0 where a pixel may read a token, -inf-like not."""
        key = (queries, batch, dtype, device)
        if key not in self._cache:
            h, w = self._grid(queries)
            inside = F.interpolate(self.masks[None], size=(h, w), mode="area")[0] >= 0.5  # (regions, h, w)
            inside = inside.reshape(len(self.spans), -1).to(device)
            allowed = torch.zeros(queries, self.total, dtype=torch.bool, device=device)
            for region, (start, end) in enumerate(self.spans):
                allowed[:, start:end] |= inside[region][:, None]
            allowed[:, : self.main_tokens] |= ~inside.any(dim=0)[:, None]
            negative = torch.zeros(queries, self.total, dtype=torch.bool, device=device)
            negative[:, : self.negative_tokens] = True
            # the pipeline concatenates [negative, positive] for guidance; without guidance the batch is positive only
            rows = [negative] * (batch // 2) + [allowed] * (batch - batch // 2) if self.guided else [allowed] * batch
            mask = torch.stack(rows)[:, None]
            blocked = torch.finfo(dtype).min
            self._cache[key] = torch.zeros(mask.shape, dtype=dtype, device=device).masked_fill(~mask, blocked)
        return self._cache[key]


class RegionalAttention:
    """A cross-attention processor that applies a RegionLayout; other processors (IP-Adapter) are wrapped."""

    def __init__(self, layout: RegionLayout, inner) -> None:
        self.layout, self.inner = layout, inner

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        text = encoder_hidden_states[0] if isinstance(encoder_hidden_states, tuple) else encoder_hidden_states
        if text is None or text.shape[1] != self.layout.total:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        queries = hidden_states.shape[1] if hidden_states.ndim == 3 else hidden_states.shape[2] * hidden_states.shape[3]
        batch = hidden_states.shape[0]
        bias = self.layout.bias(queries, batch, hidden_states.dtype, hidden_states.device)
        if attention_mask is not None:
            bias = bias + attn.prepare_attention_mask(attention_mask, text.shape[1], batch).view(
                batch, attn.heads, -1, text.shape[1])
        if not _plain_processor(self.inner):  # IP-Adapter and others take a (batch, queries, tokens) mask
            return self.inner(attn, hidden_states, encoder_hidden_states, bias[:, 0], temb, *args, **kwargs)
        return _attention(attn, hidden_states, text, bias, temb)


def _plain_processor(processor) -> bool:
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    return type(processor) in (AttnProcessor, AttnProcessor2_0)


def _attention(attn, hidden_states, text, bias, temb):
    """diffusers' AttnProcessor2_0 for cross-attention, with the region bias broadcast over the heads."""
    residual = hidden_states
    if attn.spatial_norm is not None:
        hidden_states = attn.spatial_norm(hidden_states, temb)
    four_d = hidden_states.ndim == 4
    if four_d:
        batch, channels, height, width = hidden_states.shape
        hidden_states = hidden_states.view(batch, channels, height * width).transpose(1, 2)
    batch = hidden_states.shape[0]
    if attn.group_norm is not None:
        hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    query = attn.to_q(hidden_states)
    if attn.norm_cross:
        text = attn.norm_encoder_hidden_states(text)
    key, value = attn.to_k(text), attn.to_v(text)
    head_dim = key.shape[-1] // attn.heads
    query = query.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
    key = key.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
    value = value.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=0.0, is_causal=False)
    out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
    out = attn.to_out[1](attn.to_out[0](out))
    if four_d:
        out = out.transpose(-1, -2).reshape(batch, channels, height, width)
    if attn.residual_connection:
        out = out + residual
    return out / attn.rescale_output_factor


def latent_masks(masks: list, width: int, height: int) -> torch.Tensor:
    """Region masks (PIL "L" images at the generation size, white = inside) at the latent size, 0..1."""
    import numpy as np

    stacked = np.stack([np.asarray(mask.convert("L").resize((width, height)), np.float32) / 255.0 for mask in masks])
    return F.interpolate(torch.from_numpy(stacked)[None], size=(height // 8, width // 8), mode="area")[0]


@contextlib.contextmanager
def regions_applied(modules: list, layout: RegionLayout) -> Iterator[None]:
    """Every cross-attention of `modules` (the UNet, ControlNets) reads through the layout; restored afterwards."""
    saved = []
    try:
        for module in modules:
            processors = module.attn_processors
            saved.append((module, processors))
            # every processor: self-attention passes through untouched (a model built with only cross-attention
            # reads the text in its attn1 too)
            module.set_attn_processor({name: RegionalAttention(layout, processor) for name, processor in processors.items()})
        yield
    finally:
        for module, processors in reversed(saved):
            module.set_attn_processor(processors)
