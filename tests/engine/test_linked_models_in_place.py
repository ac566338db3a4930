"""Models in other apps' folders are loaded where they lie: after discovery and a load, every file in
those folders has the same bytes and mtime, and nothing was added next to them."""

from __future__ import annotations

import os

from tiny_checkpoints import use_tiny_skeletons, write_ldm_checkpoint, write_lora

from desktop.core.models import CHAT, LORA, SINGLE_FILE, discover_models
from desktop.core.params import GenerationParams
from desktop.engine.chat import ChatEngine
from desktop.engine.pipeline import ImageEngine
from tests.core import model_trees


def test_a1111_checkpoint_and_lora_and_an_ollama_gguf_load_in_place(tiny_sd15, tiny_gguf, tmp_path, monkeypatch):
    use_tiny_skeletons(monkeypatch, tiny_sd15, tmp_path)
    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(tmp_path / "atelier-data" / "gguf-cache"))
    home = tmp_path / "home"
    webui = home / "stable-diffusion-webui"
    for folder in ("Stable-diffusion", "Lora"):
        (webui / "models" / folder).mkdir(parents=True)
    write_ldm_checkpoint(tiny_sd15, webui / "models" / "Stable-diffusion" / "dreamy.safetensors")
    write_lora(tiny_sd15, webui / "models" / "Lora" / "ink.safetensors")
    ollama = home / ".ollama" / "models"
    linked = tiny_gguf.parent / "linked.gguf"
    if not linked.exists():
        os.link(tiny_gguf, linked)
    model_trees.ollama(ollama, blob_source=linked)  # Ollama's blob: the same file under its sha256 name
    before = model_trees.file_states(home)
    listing = sorted(str(p) for p in home.rglob("*"))

    entries = {e.name: e for e in discover_models([tmp_path / "atelier-models", webui, ollama])}
    checkpoint, lora, chat = entries["dreamy"], entries["ink"], entries["smollm2:135m"]
    assert (checkpoint.kind, lora.kind, chat.kind) == (SINGLE_FILE, LORA, CHAT)
    engine = ImageEngine()
    engine.load(checkpoint.path, checkpoint.family)
    params = GenerationParams(prompt="a fox", width=64, height=64, steps=2, seed=1, loras=(("ink", 0.8),))
    assert engine.generate(params, addons=[lora])[0].size == (64, 64)
    reply = ChatEngine.load(chat.path).reply([{"role": "user", "content": "hi"}], temperature=0, max_new_tokens=3)
    assert isinstance(reply, str)

    assert model_trees.file_states(home) == before  # same bytes, same mtimes
    assert sorted(str(p) for p in home.rglob("*")) == listing  # no cache, sidecar or copy beside them
    assert any((tmp_path / "atelier-data" / "gguf-cache").iterdir())  # the converted copy is Atelier's own
