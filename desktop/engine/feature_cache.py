"""DeepCache-style feature caching: reuse the UNet's deep features between neighbouring steps.

Adjacent denoising steps change the UNet's low-resolution (deep) features very little (DeepCache,
Ma et al. 2023). Every `interval`-th UNet call runs in full and keeps the outputs of the deep part:
every down block but the first, the mid block and every up block but the last. The calls between
reuse them and compute only the shallow, full-resolution path (conv_in, the first down block, the
last up block, conv_out), which still sees the new latents and timestep. With interval 1 every call
is a full one, so the image is exactly the one made without the cache.
"""

from __future__ import annotations

import contextlib
from typing import Iterator


class FeatureCache:
    """Wraps the deep blocks of one UNet: full calls store their outputs, cached calls return them."""

    def __init__(self, unet, interval: int) -> None:
        self.unet, self.interval = unet, max(1, int(interval))
        self.calls = 0  # UNet forward calls so far in this generation
        self.reused = 0
        self._reuse = False
        self._outputs: dict[int, object] = {}
        self._deep = [*unet.down_blocks[1:], unet.mid_block, *unet.up_blocks[:-1]]
        self._hook = None

    def _before_unet(self, _module, _args) -> None:
        self._reuse = self.calls % self.interval != 0 and len(self._outputs) == len(self._deep)
        self.reused += self._reuse
        self.calls += 1

    def _wrap(self, index: int, block) -> None:
        original = block.forward

        def forward(*args, **kwargs):
            if self._reuse:
                return self._outputs[index]
            output = original(*args, **kwargs)
            self._outputs[index] = output
            return output

        block.forward = forward  # an instance attribute: Module.__call__ finds it before the class's

    def install(self) -> None:
        if self.interval <= 1:
            return
        for index, block in enumerate(self._deep):
            self._wrap(index, block)
        self._hook = self.unet.register_forward_pre_hook(self._before_unet)

    def remove(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        for block in self._deep:
            block.__dict__.pop("forward", None)  # the class's forward again
        self._outputs.clear()


@contextlib.contextmanager
def feature_cache(pipe, interval: int) -> Iterator[FeatureCache | None]:
    """`with feature_cache(pipe, 2): pipe(...)`: the UNet reuses its deep features every other call;
    removed afterwards, also when the call is cancelled or fails."""
    unet = getattr(pipe, "unet", None)
    if interval <= 1 or unet is None or not hasattr(unet, "up_blocks") or len(unet.down_blocks) < 2:
        yield None
        return
    cache = FeatureCache(unet, interval)
    cache.install()
    try:
        yield cache
    finally:
        cache.remove()
