"""The full-VAE decode of a draft's latents: block by block, cancelled between blocks, refused for other models."""

from __future__ import annotations

import threading

import pytest
import torch

from desktop.core.draft import DraftError
from desktop.core.messages import JobCancelled
from desktop.engine.draft_latents import decode_full, load_latents, save_latents
from desktop.engine.pipeline import ImageEngine


@pytest.fixture(scope="module")
def pipe(tiny_sd15):
    engine = ImageEngine(device="cpu", dtype=torch.float32)
    engine.load(tiny_sd15)
    return engine.base_pipe


def test_a_cancel_lands_between_decoder_blocks(pipe):
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    cancel, seen = threading.Event(), []

    def on_progress(done, total):
        seen.append(done)
        if done == 1:
            cancel.set()  # pressed while the first block ran

    with pytest.raises(JobCancelled):
        decode_full(pipe, latents, cancel=cancel, on_progress=on_progress)
    assert seen == [0, 1]  # the second block never started
    image, note = decode_full(pipe, latents)  # the VAE is usable afterwards: the hooks are gone
    assert image.size == (64, 64) and note == ""


def test_latents_round_trip_and_a_wrong_shape_is_refused(pipe, tmp_path):
    latents = torch.randn(1, 4, 8, 8)
    path = save_latents(tmp_path / "x.latents.safetensors", latents, {"format": "test"})
    assert torch.equal(load_latents(path), latents)
    with pytest.raises(DraftError, match="made by another kind of model"):
        decode_full(pipe, torch.zeros(1, 16, 8, 8))  # an SD3/Flux-style 16-channel latent
    (tmp_path / "bad.latents.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(DraftError, match="could not be read"):
        load_latents(tmp_path / "bad.latents.safetensors")
