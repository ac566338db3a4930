"""`main.py models list [--json]` and `main.py models import FILE`: the Models window, headless."""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAME = "models"
HELP = "list the models Atelier can use, or import a model file"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="models_action", metavar="{list,import,download}")
    listing = actions.add_parser("list", help="every model Atelier finds, with kind, family, size and state")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    importing = actions.add_parser("import", help="import a .safetensors checkpoint, LoRA, VAE or TAESD file")
    importing.add_argument("file", help="the model file")
    importing.add_argument("--name", help="name to give the imported model (default: the file's name)")
    importing.add_argument("--config", help="a diffusers folder describing a non-standard checkpoint")
    importing.add_argument("--trust-pickle", action="store_true",
                           help="I trust this .ckpt/.pt/.bin file: read it with torch.load(weights_only=True) "
                                "and keep a .safetensors conversion")
    fetching = actions.add_parser("download", help="download a catalog model or any Hugging Face repo (online)")
    fetching.add_argument("what", help="a catalog id (see --catalog) or a repo id such as stabilityai/sd-turbo")
    fetching.add_argument("--catalog", action="store_true", help="list the curated catalog and exit")


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
    if action == "download":
        return _download(args)
    return _fail("say what to do: 'models list', 'models import FILE' or 'models download ID'")


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
    if result.kind in ("checkpoint", "checkpoint file"):
        print(f"Use it with: main.py generate --model {result.name!r} --prompt ... --out image.png")
    return 0


def _download(args) -> int:
    import threading

    from desktop.core.catalog import load_catalog
    from desktop.core.downloads import DownloadCancelled, DownloadError, download
    from desktop.core.paths import hf_cache_dir

    catalog = {entry.id: entry for entry in load_catalog()}
    if args.catalog:
        for entry in catalog.values():
            print(f"{entry.id:24} {human_size(entry.size_bytes):>9}  {entry.licence}  ({entry.repo_id})")
        return 0
    entry = catalog.get(args.what)
    repo, revision = (entry.repo_id, entry.revision) if entry else (args.what, "main")
    patterns = list(entry.patterns) if entry else None

    def show(progress) -> None:
        left = f"{progress.seconds_left:.0f} s left" if progress.seconds_left is not None else "estimating"
        print(f"\r{human_size(progress.done_bytes)} of {human_size(progress.total_bytes)}, "
              f"{human_size(progress.bytes_per_second)}/s, {left}   ", end="", file=sys.stderr, flush=True)

    cancel = threading.Event()
    try:
        result = download(repo, hf_cache_dir(), revision, patterns, on_progress=show, cancel=cancel)
    except DownloadError as error:
        print(file=sys.stderr)
        return _fail(str(error), 1)
    except (KeyboardInterrupt, DownloadCancelled):
        print(file=sys.stderr)
        return _fail("download interrupted; what was fetched is kept and the next try resumes", 130)
    print(file=sys.stderr)
    print(f"Downloaded {repo} ({human_size(result.total_bytes)}, verified) to {result.folder}")
    return 0
