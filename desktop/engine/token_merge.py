"""Token merging for the UNet's full-resolution self-attention (ToMe for SD, Bolya & Hoffman 2023).

At 512 px the first and last UNet blocks attend over 4096 tokens, and self-attention costs grow with
the square of that. Neighbouring latent pixels are often alike: before self-attention, each 2x2 cell
keeps one "destination" token, the `ratio` most similar of the other tokens are averaged into their
best destination, attention runs on what is left, and its output is copied back to every merged token.
Cross-attention and the feed-forward layers see all tokens. ratio 0 leaves the image unchanged.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


def bipartite_merge(x: torch.Tensor, height: int, width: int, ratio: float):
    """(merge, unmerge) functions for tokens x (batch, height*width, channels) on a height x width grid."""
    batch, count, channels = x.shape
    cells_h, cells_w = height // 2, width // 2
    merged_count = int(count * ratio)
    if merged_count <= 0 or cells_h == 0 or cells_w == 0:
        return (lambda t: t), (lambda t: t)
    # one destination per 2x2 cell (its top-left token); every other token is a source
    grid = torch.arange(count, device=x.device).view(height, width)
    is_dst = torch.zeros(height, width, dtype=torch.bool, device=x.device)
    is_dst[: cells_h * 2: 2, : cells_w * 2: 2] = True
    dst_index, src_index = grid[is_dst], grid[~is_dst]
    merged_count = min(merged_count, src_index.numel())
    with torch.no_grad():
        metric = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        scores = metric[:, src_index] @ metric[:, dst_index].transpose(1, 2)  # (batch, sources, destinations)
        best, best_dst = scores.max(dim=-1)
        order = best.argsort(dim=-1, descending=True)
        merged_src = order[:, :merged_count]  # positions within src_index
        kept_src = order[:, merged_count:]
        target = best_dst.gather(1, merged_src)  # positions within dst_index

    def merge(t: torch.Tensor) -> torch.Tensor:
        src, dst = t[:, src_index], t[:, dst_index]
        size = t.shape[-1]
        kept = src.gather(1, kept_src.unsqueeze(-1).expand(-1, -1, size))
        moving = src.gather(1, merged_src.unsqueeze(-1).expand(-1, -1, size))
        dst = dst.scatter_reduce(1, target.unsqueeze(-1).expand(-1, -1, size), moving, reduce="mean",
                                 include_self=True)
        return torch.cat([kept, dst], dim=1)

    def unmerge(t: torch.Tensor) -> torch.Tensor:
        size = t.shape[-1]
        kept, dst = t[:, : kept_src.shape[1]], t[:, kept_src.shape[1]:]
        out = torch.empty(batch, count, size, dtype=t.dtype, device=t.device)
        out[:, dst_index] = dst
        src = torch.empty(batch, src_index.numel(), size, dtype=t.dtype, device=t.device)
        src.scatter_(1, kept_src.unsqueeze(-1).expand(-1, -1, size), kept)
        src.scatter_(1, merged_src.unsqueeze(-1).expand(-1, -1, size),
                     dst.gather(1, target.unsqueeze(-1).expand(-1, -1, size)))
        out[:, src_index] = src
        return out

    return merge, unmerge


class MergingProcessor:
    """Wraps a self-attention processor: merges tokens before it and copies its output back after."""

    def __init__(self, inner, state: dict, ratio: float) -> None:
        self.inner, self.state, self.ratio = inner, state, ratio

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        size = self.state.get("latent")
        if encoder_hidden_states is not None or hidden_states.ndim != 3 or size is None:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
        height, width = size
        if hidden_states.shape[1] != height * width:  # a lower-resolution block: left alone
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
        merge, unmerge = bipartite_merge(hidden_states, height, width, self.ratio)
        return unmerge(self.inner(attn, merge(hidden_states), None, attention_mask, temb, **kwargs))


@contextlib.contextmanager
def token_merging(pipe, ratio: float) -> Iterator[int]:
    """`with token_merging(pipe, 0.5): pipe(...)`: merged self-attention at full resolution; yields how many
    attention layers were wrapped; everything is put back afterwards."""
    unet = getattr(pipe, "unet", None)
    if ratio <= 0 or unet is None:
        yield 0
        return
    state: dict = {}

    def note_size(_module, args, kwargs):
        sample = args[0] if args else kwargs["sample"]
        state["latent"] = tuple(sample.shape[-2:])

    wrapped = []
    for name, module in unet.named_modules():
        if name.endswith("attn1") and hasattr(module, "processor"):
            wrapped.append((module, module.processor))
            module.processor = MergingProcessor(module.processor, state, ratio)
    hook = unet.register_forward_pre_hook(note_size, with_kwargs=True)
    try:
        yield len(wrapped)
    finally:
        hook.remove()
        for module, processor in wrapped:
            module.processor = processor
