"""Other apps' model folders: find them, say what they hold, and list their models in place.

AUTOMATIC1111, Forge and SD.Next keep `models/Stable-diffusion`, `Lora`, `VAE`, `ControlNet`,
`ESRGAN`; ComfyUI keeps `models/checkpoints`, `loras`, `vae`, `controlnet`, `upscale_models` and may
point at more in `extra_model_paths.yaml`; InvokeAI keeps a `models` tree; LM Studio, GPT4All and Jan
keep GGUF chat models; Ollama keeps manifests that name GGUF blobs. A folder the user links (or
accepts from `detect_folders`) is recognised by its layout and scanned with it. Models are used
where they lie: nothing here writes, copies or moves a file, and a folder that is gone (an
unplugged drive) simply has no models until it is back.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from desktop.core.models import (CHAT, CONTROLNET, DIFFUSERS, LORA, MODEL_FILE_SUFFIXES, SINGLE_FILE, UNKNOWN,
                                 UPSCALER, VAE, ModelEntry, folder_size, identify_folder)
from desktop.core.ollama_store import OLLAMA, scan_ollama

A1111 = "AUTOMATIC1111 / Forge / SD.Next"
COMFYUI = "ComfyUI"
INVOKEAI = "InvokeAI"
LM_STUDIO = "LM Studio"
GPT4ALL = "GPT4All"
JAN = "Jan"
GGUF_TREE = "GGUF folder"

# (folder under the app's models folder, kind): one row per kind folder each layout knows
A1111_FOLDERS = (("Stable-diffusion", SINGLE_FILE), ("Lora", LORA), ("LyCORIS", LORA), ("VAE", VAE),
                 ("ControlNet", CONTROLNET), ("ESRGAN", UPSCALER), ("RealESRGAN", UPSCALER))
COMFYUI_FOLDERS = (("checkpoints", SINGLE_FILE), ("loras", LORA), ("vae", VAE), ("controlnet", CONTROLNET),
                   ("upscale_models", UPSCALER), ("diffusers", DIFFUSERS))
# folders ComfyUI makes at its first start that Atelier's own models folder never has
_COMFYUI_MARKERS = ("upscale_models", "clip_vision", "diffusion_models", "vae_approx", "text_encoders", "unet")
# InvokeAI model types (the folder names of its models tree) that Atelier can use
_INVOKEAI_TYPES = {"main": SINGLE_FILE, "lora": LORA, "vae": VAE, "controlnet": CONTROLNET}
_INVOKEAI_BASES = ("sd-1", "sd-2", "sdxl", "sdxl-refiner", "any")
MAX_DEPTH = 4  # how deep a kind folder's sub-folders are searched (people sort models into folders)
MAX_YAML_BYTES = 1 << 20


@dataclass(frozen=True)
class LinkedFolder:
    """A folder of another app's models: the app, and the (folder, kind) pairs to scan in it."""

    app: str
    path: str
    folders: tuple[tuple[str, str], ...] = ()  # kind CHAT: a tree of GGUF files; "ollama": manifests
    note: str = ""  # what the user should know (a YAML that could not be read, extra folders it adds)

    @property
    def online(self) -> bool:
        return Path(self.path).is_dir()

    def kinds(self) -> list[str]:
        """The kinds of model this folder has folders for, in table order, each once."""
        seen: list[str] = []
        for folder, kind in self.folders:
            if not Path(folder).is_dir():
                continue
            if kind == INVOKEAI:  # models/<base>/<type>/: the types present
                types = {p.name for base in _children(Path(folder)) if base.is_dir() for p in _children(base)}
                found = [k for t, k in _INVOKEAI_TYPES.items() if t in types]
            else:
                found = [CHAT if kind == OLLAMA else kind]
            seen += [k for k in found if k not in seen]
        return seen


# ------------------------------------------------------------------ recognising a folder
def _models_root(folder: Path, marker: str) -> Path | None:
    """The app's models folder, whether the user picked the app folder or its models folder."""
    for root in (folder / "models", folder):
        if (root / marker).is_dir():
            return root
    return None


def _comfyui_root(folder: Path) -> Path | None:
    for root in (folder / "models", folder):
        if (root / "checkpoints").is_dir() and any((root / m).is_dir() for m in _COMFYUI_MARKERS):
            return root
    return None


def identify(folder: str | Path) -> LinkedFolder | None:
    """Which app's layout a folder has, or None for a plain folder (scanned the way Atelier's is)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        return None
    if (folder / "manifests").is_dir() and (folder / "blobs").is_dir():
        return LinkedFolder(OLLAMA, str(folder), ((str(folder), OLLAMA),))
    root = _models_root(folder, "Stable-diffusion")
    if root is not None:
        return LinkedFolder(A1111, str(folder), tuple((str(root / name), kind) for name, kind in A1111_FOLDERS))
    root = _comfyui_root(folder)
    if root is not None:
        return _comfyui(folder, root)
    if (folder / "invokeai.yaml").is_file() or any((folder / base).is_dir() for base in _INVOKEAI_BASES) or \
            any((folder / "models" / base).is_dir() for base in _INVOKEAI_BASES):
        root = folder / "models" if (folder / "models").is_dir() else folder
        return LinkedFolder(INVOKEAI, str(folder), ((str(root), INVOKEAI),))
    app = _gguf_app(folder)
    if app:
        return LinkedFolder(app, str(folder), ((str(folder), CHAT),))
    return None


def _gguf_app(folder: Path) -> str:
    """LM Studio, GPT4All, Jan (by where their folders sit), or a folder of GGUFs sorted into sub-folders."""
    parts = [part.lower() for part in folder.parts]
    if ".lmstudio" in parts or "lm-studio" in parts:
        return LM_STUDIO
    if "nomic.ai" in parts:
        return GPT4ALL
    if ("jan" in parts and "data" in parts[parts.index("jan"):]) or (folder.name == "models" and
                                                                      folder.parent.name == "jan"):
        return JAN
    if any(child.is_file() and child.suffix.lower() == ".gguf" for child in _children(folder)):
        return ""  # GGUFs at the top: Atelier's own scan lists them
    looked = 0
    for child in _children(folder):  # a bounded look two levels down (LM Studio's publisher/repo/file)
        if not child.is_dir():
            continue
        for grandchild in _children(child)[:50]:
            looked += 1
            if grandchild.suffix.lower() == ".gguf" or (grandchild.is_dir() and any(
                    p.suffix.lower() == ".gguf" for p in _children(grandchild)[:50])):
                return GGUF_TREE
        if looked > 500:
            break
    return ""


def _comfyui(folder: Path, root: Path) -> LinkedFolder:
    folders = [(str(root / name), kind) for name, kind in COMFYUI_FOLDERS]
    note = ""
    base = root.parent if root.name == "models" else root
    yaml_file = base / "extra_model_paths.yaml"
    if yaml_file.is_file():
        try:
            extra = read_extra_model_paths(yaml_file)
        except ValueError as error:
            note = str(error)
        else:
            folders += [(str(path), kind) for path, kind in extra if (str(path), kind) not in folders]
            note = f"extra_model_paths.yaml adds {len(extra)} folder{'s' * (len(extra) != 1)}" if extra else ""
    return LinkedFolder(COMFYUI, str(folder), tuple(folders), note)


def read_extra_model_paths(path: str | Path) -> list[tuple[Path, str]]:
    """The (folder, kind) pairs ComfyUI's extra_model_paths.yaml adds; ValueError says why it cannot be read.

    Parsed with yaml.safe_load (no tags, no code). Each section has an optional base_path (relative to
    the YAML's folder) and one or more folders per kind, one per line; `~` and $VARS are expanded as
    ComfyUI does. Kinds Atelier has no use for (clip, embeddings, …) are left out.
    """
    import yaml

    path = Path(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ValueError(f"{path} is too large to be a model paths file")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"could not read {path.name}: {first}") from error
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ValueError(f"could not read {path.name}: it does not hold sections of model folders")
    kinds = dict(COMFYUI_FOLDERS)
    found: list[tuple[Path, str]] = []
    for section in data.values():
        if not isinstance(section, dict):
            continue
        base = section.get("base_path", "")
        base = Path(os.path.expandvars(os.path.expanduser(str(base)))) if base else path.parent
        if not base.is_absolute():
            base = path.parent / base
        for key, value in section.items():
            if key not in kinds or not isinstance(value, str):
                continue
            for line in value.splitlines():
                line = line.strip()
                if line:
                    folder = Path(os.path.expandvars(os.path.expanduser(line)))
                    found.append((folder if folder.is_absolute() else base / folder, kinds[key]))
    return found


# ------------------------------------------------------------------ detecting the usual places
def candidate_folders(home: Path, env: Mapping[str, str], system: str, include_system: bool = True) -> list[tuple[str, Path]]:
    """(app, folder) where each app keeps models by default, whether or not they exist."""
    roots = [home] + [home / name for name in ("AI", "ai", "Documents", "Desktop", "Applications", "src", "git",
                                               "Projects")]
    found: list[tuple[str, Path]] = []
    for root in roots:
        for name in ("stable-diffusion-webui", "stable-diffusion-webui-forge", "stable-diffusion-webui-reForge",
                     "sd-webui-forge", "automatic", "sdnext", "SD.Next"):
            found.append((A1111, root / name))
        for name in ("ComfyUI", "comfyui", "ComfyUI_windows_portable/ComfyUI"):
            found.append((COMFYUI, root / name))
    found.append((INVOKEAI, Path(env["INVOKEAI_ROOT"]) if env.get("INVOKEAI_ROOT") else home / "invokeai"))
    found += [(LM_STUDIO, home / ".lmstudio" / "models"), (LM_STUDIO, home / ".cache" / "lm-studio" / "models")]
    if env.get("OLLAMA_MODELS"):
        found.append((OLLAMA, Path(env["OLLAMA_MODELS"])))
    found.append((OLLAMA, home / ".ollama" / "models"))
    if include_system and system == "Linux":
        found.append((OLLAMA, Path("/usr/share/ollama/.ollama/models")))  # the Linux service's install
    app_data = {
        "Linux": home / ".local" / "share",
        "Darwin": home / "Library" / "Application Support",
        "Windows": Path(env.get("LOCALAPPDATA", home / "AppData" / "Local")),
    }.get(system, home / ".local" / "share")
    found.append((GPT4ALL, app_data / "nomic.ai" / "GPT4All"))
    jan_data = Path(env["APPDATA"]) / "Jan" / "data" if system == "Windows" and env.get("APPDATA") else (
        app_data / "Jan" / "data")
    found += [(JAN, home / "jan" / "models"), (JAN, jan_data / "models"), (JAN, jan_data / "llamacpp" / "models")]
    return found


def detect_folders(home: Path | None = None, env: Mapping[str, str] | None = None, system: str | None = None,
                   include_system: bool = True) -> list[LinkedFolder]:
    """Other apps' model folders that exist on this computer, each once."""
    home = Path(home) if home is not None else Path.home()
    env = os.environ if env is None else env
    system = system or platform.system()
    detected: list[LinkedFolder] = []
    seen: set[str] = set()
    for app, folder in candidate_folders(home, env, system, include_system):
        if not folder.is_dir():
            continue
        key = os.path.normcase(str(folder.resolve()))
        if key in seen:
            continue
        linked = identify(folder)
        if linked is None and app in (LM_STUDIO, GPT4ALL, JAN):  # their folders may sit anywhere
            linked = LinkedFolder(app, str(folder), ((str(folder), CHAT),))
        if linked is not None:
            seen.add(key)
            detected.append(linked)
    return detected


# ------------------------------------------------------------------ scanning
def scan_linked(linked: LinkedFolder) -> list[ModelEntry]:
    """Every model in a linked folder, labelled with the app; a missing folder gives none."""
    entries: list[ModelEntry] = []
    for folder, kind in linked.folders:
        path = Path(folder)
        if not path.is_dir():
            continue
        if kind == OLLAMA:
            entries += scan_ollama(path)
        elif kind == INVOKEAI:
            entries += _walk(path, "", linked.app, MAX_DEPTH + 1)
        elif kind == CHAT:
            entries += _walk_gguf(path, linked.app, MAX_DEPTH + 1)
        else:
            entries += _walk(path, kind, linked.app, MAX_DEPTH)
    return _unique(entries)


def _unique(entries: list[ModelEntry]) -> list[ModelEntry]:
    seen: set[str] = set()
    kept = []
    for entry in entries:
        key = os.path.normcase(os.path.realpath(entry.path))
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(child for child in folder.iterdir() if not child.name.startswith("."))
    except OSError:  # unreadable, or gone while we looked
        return []


def _walk(folder: Path, kind: str, source: str, depth: int) -> list[ModelEntry]:
    """Model files and model folders under a kind folder; kind "" lets each file say what it is."""
    from desktop.core.checkpoint_files import file_entry

    entries: list[ModelEntry] = []
    for child in _children(folder):
        if child.is_file():
            suffix = child.suffix.lower()
            if suffix == ".gguf":
                from desktop.core.gguf_files import gguf_entry

                entries.append(gguf_entry(child, source))
            elif suffix in MODEL_FILE_SUFFIXES or (suffix == ".bin" and kind in (LORA, CONTROLNET, UPSCALER)):
                hint = kind or (_kind_from_path(child) or SINGLE_FILE)
                entries.append(_other_entry(child, hint, source) if hint in (CONTROLNET, UPSCALER)
                               else file_entry(child, source, hint))
        elif child.is_dir():
            entry = identify_folder(child, child.name, source)
            if entry is None and (child / "config.json").is_file() and (kind or _kind_from_path(child)) == CONTROLNET:
                entry = ModelEntry(child.name, str(child), CONTROLNET, UNKNOWN, folder_size(child), source)
            if entry is not None:
                entries.append(entry)
            elif depth > 0:
                entries += _walk(child, kind, source, depth - 1)
    return entries


def _kind_from_path(path: Path) -> str:
    """InvokeAI's tree says the kind in a folder name (sd-1/lora/…): the nearest one wins."""
    for part in reversed(path.parts[:-1]):
        if part.lower() in _INVOKEAI_TYPES:
            return _INVOKEAI_TYPES[part.lower()]
    return ""


def _other_entry(path: Path, kind: str, source: str) -> ModelEntry:
    """A ControlNet or upscaler file: listed with its size; a pickle or a damaged file with the reason."""
    from desktop.core.checkpoint_files import CheckpointError, read_header
    from desktop.core.pickle_files import PICKLE_SUFFIXES, refusal_message

    if kind == UPSCALER:  # as models._scan_kind_folder lists them: spandrel (and the pickle rules) at load time
        return ModelEntry(path.stem, str(path), UPSCALER, "upscaler", path.stat().st_size, source)
    problem = ""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        problem = refusal_message(path)
    else:
        try:
            read_header(path)
        except CheckpointError as error:
            problem = str(error)
        else:  # a ControlNet's header says its family (SD 1.x/SDXL), as in Atelier's own models/controlnet
            from desktop.core.checkpoint_files import file_entry

            entry = file_entry(path, source, kind)
            if entry.kind == kind:
                return entry
    size = path.stat().st_size if path.exists() else 0
    return ModelEntry(path.stem, str(path), kind, UNKNOWN, size, source, problem)


def _walk_gguf(folder: Path, source: str, depth: int) -> list[ModelEntry]:
    from desktop.core.gguf_files import gguf_entry

    entries: list[ModelEntry] = []
    for child in _children(folder):
        if child.is_file() and child.suffix.lower() == ".gguf" and not _is_projector(child):
            entries.append(gguf_entry(child, source))
        elif child.is_dir() and depth > 0:
            entries += _walk_gguf(child, source, depth - 1)
    return entries


def _is_projector(path: Path) -> bool:
    # vision projectors (mmproj-*.gguf) ride beside chat models; they are not chat models themselves
    return path.name.lower().startswith("mmproj")
