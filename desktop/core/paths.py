"""Where Atelier keeps its files: the platform's standard folders, or one root for tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Atelier"


@dataclass(frozen=True)
class AppPaths:
    """The folders Atelier reads and writes; created on demand."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    models_dir: Path
    outputs_dir: Path

    @classmethod
    def default(cls) -> "AppPaths":
        """ATELIER_HOME puts everything under one folder (tests, portable installs)."""
        home = os.environ.get("ATELIER_HOME")
        if home:
            root = Path(home)
            return cls(root / "config", root / "data", root / "cache", root / "models", root / "outputs")
        import platformdirs

        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=data,
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            models_dir=data / "models",
            outputs_dir=Path(platformdirs.user_pictures_dir()) / APP_NAME,
        )

    def ensure(self) -> "AppPaths":
        for path in (self.config_dir, self.data_dir, self.cache_dir, self.models_dir, self.outputs_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, found the way huggingface_hub finds it, without importing it."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(hf_home) / "hub"
