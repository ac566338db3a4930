"""`main.py models list [--json]` and `main.py models import FILE`: the Models window, headless."""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAME = "models"
HELP = "list the models Atelier can use, or import a model file"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="models_action", metavar="{list,import}")
    listing = actions.add_parser("list", help="every model Atelier finds, with kind, family, size and state")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    importing = actions.add_parser("import", help="import a .safetensors checkpoint, LoRA, VAE or TAESD file")
    importing.add_argument("file", help="the model file")
    importing.add_argument("--name", help="name to give the imported model (default: the file's name)")
    importing.add_argument("--config", help="a diffusers folder describing a non-standard checkpoint")
    importing.add_argument("--trust-pickle", action="store_true",
                           help="I trust this .ckpt/.pt/.bin file: read it with torch.load(weights_only=True) "
                                "and keep a .safetensors conversion")


def _fail(message: str, code: int = 2) -> int:
    print(f"atelier models: {message}", file=sys.stderr)
    return code


def _folders():
    from desktop.core.paths import AppPaths
    from desktop.core.settings import Settings

    paths = AppPaths.default()
    settings = Settings.load(paths.config_dir / "settings.json")
    models_dir = Path(settings.models_dir) if settings.models_dir else paths.models_dir
    return paths, models_dir, [models_dir] + [Path(p) for p in settings.extra_model_dirs]


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"


def run(args) -> int:
    action = getattr(args, "models_action", None)
    if action == "list":
        return _list(args.json)
    if action == "import":
        return _import(args)
    return _fail("say what to do: 'models list' or 'models import FILE'")


def _list(as_json: bool) -> int:
    from dataclasses import asdict

    from desktop.core.models import discover_models
    from desktop.core.paths import hf_cache_dir

    _paths, _models_dir, folders = _folders()
    entries = discover_models(folders, hf_cache_dir())
    if as_json:
        print(json.dumps([{**asdict(e), "ready_offline": e.usable} for e in entries], indent=2))
        return 0
    if not entries:
        print(f"No models found in {', '.join(str(f) for f in folders)} or the Hugging Face cache.")
        return 0
    rows = [(e.name, e.kind, e.family, human_size(e.size_bytes), "ready" if e.usable else "problem", e.path)
            for e in entries]
    widths = [max(len(str(r[i])) for r in rows + [("name", "kind", "family", "size", "state", "")])
              for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(("NAME", "KIND", "FAMILY", "SIZE", "STATE"), widths)) + "  WHERE")
    for entry, row in zip(entries, rows):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)) + f"  {row[5]}")
        if entry.problem:
            print(f"    -> {entry.problem}")
    return 0


def _import(args) -> int:
    from desktop.core.checkpoint_files import CheckpointError
    from desktop.core.pickle_files import TrustList

    paths, models_dir, _folders_ = _folders()
    source = Path(args.file).expanduser()
    if not source.is_file():
        return _fail(f"{source} does not exist or is not a file")
    print(f"Importing {source.name}…", file=sys.stderr)
    from desktop.engine.model_import import import_model_file  # torch loads here, not at --help time

    try:
        result = import_model_file(source, models_dir, trust=TrustList(paths.config_dir / "trusted_pickles.json"),
                                   trust_pickle=args.trust_pickle, name=args.name, config=args.config)
    except CheckpointError as error:
        return _fail(str(error))
    print(f"Found: {result.kind}, family {result.family}")
    print(f"Now lives at: {result.path}")
    if result.kind == "checkpoint":
        print(f"Use it with: main.py generate --model {result.name!r} --prompt ... --out image.png")
    return 0
