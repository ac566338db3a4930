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
