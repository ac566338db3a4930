"""Shared fixtures: tiny real models built once per session, a fresh Atelier home for every test."""

from __future__ import annotations

import os

# Before anything imports Qt or the hub: headless Qt, and no network for the hub, ever.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


def _built(root: Path, name: str, build) -> Path:
    folder = root / name
    if not folder.exists():
        build(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_sd15(tiny_models_dir) -> Path:
    """A saved SD 1.x-layout pipeline folder (random weights)."""
    from desktop.engine import tiny_models

    return _built(tiny_models_dir, "tiny-sd15", tiny_models.build_sd15)


@pytest.fixture(scope="session")
def tiny_sdxl(tiny_models_dir) -> Path:
    from desktop.engine import tiny_models

    return _built(tiny_models_dir, "tiny-sdxl", tiny_models.build_sdxl)


@pytest.fixture(scope="session")
def tiny_taesd(tiny_models_dir) -> Path:
    from desktop.engine import tiny_models

    return _built(tiny_models_dir, "tiny-taesd", tiny_models.build_taesd)


@pytest.fixture(scope="session")
def tiny_chat(tiny_models_dir) -> Path:
    from desktop.engine import tiny_models

    return _built(tiny_models_dir, "tiny-chat", tiny_models.build_chat_lm)


@pytest.fixture
def atelier_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty Atelier home (settings, models, outputs) for one test."""
    home = tmp_path / "atelier-home"
    monkeypatch.setenv("ATELIER_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return home


@pytest.fixture
def app_paths(atelier_home):
    from desktop.core.paths import AppPaths

    return AppPaths.default().ensure()


# GGUF chat models: a tiny one made here, and SmolLM2's real GGUF from PyPI (tests/gguf_fixtures.py)
from gguf_fixtures import gguf_cache, session_gguf_cache, smollm2_converted, smollm2_gguf, tiny_gguf  # noqa: E402,F401
# chat servers on 127.0.0.1: a real `transformers serve`, and a scripted one (tests/chat_servers.py)
from chat_servers import scripted_server, served_hub, transformers_server  # noqa: E402,F401
