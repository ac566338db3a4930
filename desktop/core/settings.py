"""User settings: typed, saved as JSON in the platform's config folder, tolerant of bad files."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core import json_text
from desktop.core.atomic import write_text_atomic

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """What the user chose; every field has a sensible default so an old file still loads."""

    models_dir: str = ""  # empty: AppPaths.models_dir
    outputs_dir: str = ""  # empty: AppPaths.outputs_dir
    extra_model_dirs: list[str] = field(default_factory=list)
    last_model: str = ""
    last_chat_model: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    guidance: float = 7.0
    scheduler: str = "Euler a"
    seed: int = 0
    seed_locked: bool = False
    negative_prompt: str = ""
    fast_decode: bool = False  # TAESD for the final decode when available
    cpu_channels_last: bool = True  # NHWC convolutions on the CPU: ~15% faster UNet steps (benchmarks)
    autosave_minutes: float = 1.0
    auto_approve_tools: bool = False
    write_c2pa: bool = False
    recent_files: list[str] = field(default_factory=list)
    fast_mode: bool = False  # the prompt panel's Fast mode switch, kept between runs
    model_folders_off: list[str] = field(default_factory=list)  # linked model folders kept listed but not used
    chat_engine: str = "local"  # "local" (this computer) or "server" (an OpenAI-compatible server)
    chat_server_url: str = ""  # its base URL (…/v1); the API key is in the keyring, never here
    chat_server_model: str = ""
    image_engine: str = "local"  # "local" (this computer) or "comfyui" (a ComfyUI server)
    comfyui_url: str = ""  # its address; the token is kept by the key store, never here
    comfyui_checkpoint: str = ""  # the checkpoint last chosen on it
    theme: str = "system"  # View > Theme: "system" (dark unless the desktop is light), "dark" or "light"
    prompt: str = ""  # the prompt panel's text, restored at the next start like the negative prompt

    @classmethod
    def load(cls, path: Path) -> "Settings":
        """Read settings; a missing or broken file gives defaults and the broken one is kept aside."""
        if not path.exists():
            return cls()
        try:
            data = json_text.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("settings file does not hold a JSON object")
        except (OSError, ValueError) as error:
            aside = path.with_suffix(path.suffix + ".broken")
            log.warning("settings file %s is unreadable (%s); using defaults, kept it as %s", path, error, aside)
            try:
                path.replace(aside)
            except OSError:
                pass
            return cls()
        settings = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            default = getattr(settings, f.name)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, (int, float)):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = type(default)(value) if ok else value
            elif isinstance(default, list):
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            else:
                ok = isinstance(value, type(default))
            if ok:
                setattr(settings, f.name, value)
            else:
                log.warning("setting %s has a wrong value %r; using the default", f.name, value)
        return settings

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True))

    def add_recent(self, file: str, keep: int = 10) -> None:
        self.recent_files = [file] + [f for f in self.recent_files if f != file][: keep - 1]
