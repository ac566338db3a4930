"""`main.py info FILE [--json]`: what an image says about how it was made, whichever tool made it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAME = "info"
HELP = ("show the generation settings stored in a PNG, JPEG or WebP (Atelier, A1111, ComfyUI, InvokeAI, ...), "
        "or what an .ora project holds")


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the image or .ora project to read")
    parser.add_argument("--json", action="store_true", help="print one JSON object (null where unknown)")


def _lines(info, name: str) -> list[str]:
    if not info.found:
        return [f"{name}: no generation data found", *(f"  note: {n}" for n in info.notes if n != "no generation data found")]
    lines = [f"{name}: made with {info.tool_label}"]
    for label, value in (("prompt", info.prompt), ("negative prompt", info.negative_prompt)):
        if value:
            shown = value if len(value) <= 2000 else value[:2000] + f"… ({len(value):,} characters)"
            lines.append(f"  {label + ':':17}{shown.replace(chr(10), chr(10) + ' ' * 19)}")
    settings = [("seed", info.seed), ("steps", info.steps), ("CFG scale", f"{info.cfg_scale:g}" if info.cfg_scale is not None else None),
                ("sampler", info.sampler), ("size", f"{info.width}x{info.height}" if info.width and info.height else None),
                ("model", info.model)]
    known = [f"{label}: {value}" for label, value in settings if value is not None]
    if known:
        lines.append("  " + "   ".join(known))
    for key, value in info.extra.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        lines.append(f"  {key}: {text if len(text) <= 300 else text[:300] + '…'}")
    lines.extend(f"  note: {note}" for note in info.notes)
    return lines


def run(args) -> int:
    from desktop.core.metadata import read_metadata

    path = Path(args.file)
    if not path.exists():
        print(f"atelier info: no such file: {path} (check the path)", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"atelier info: {path} is not a file: give one image (PNG, JPEG or WebP)", file=sys.stderr)
        return 2
    from desktop.core.project_info import is_project

    if is_project(path):
        return _project(path, args.json)
    info = read_metadata(path)
    if args.json:
        print(json.dumps(info.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(_lines(info, path.name)))
    return 0 if info.found else 1


def _project(path: Path, as_json: bool) -> int:
    """An .ora project: its size and layers, and how each generated layer was made."""
    from desktop.core.ora_stack import ProjectError
    from desktop.core.project_info import describe, summarize_project

    try:
        summary = summarize_project(path)
    except ProjectError as error:
        print(f"atelier info: {error}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(summary.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe(summary, path.name)))
    return 0
