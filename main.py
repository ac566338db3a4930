"""Atelier. With no subcommand, opens the app; subcommands run headless (see --help)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# What `make run` / `make test` install into .venv; a Python without them cannot run Atelier.
_NEEDED = ("torch", "PySide6", "platformdirs")


def _hand_over_to_the_venv(argv: list[str]) -> None:
    """`python3 main.py ...` with a Python that lacks Atelier's libraries: run the same line with the
    project's .venv (made by `make run` or `make test`), or say how to make it, instead of a traceback."""
    if all(importlib.util.find_spec(name) is not None for name in _NEEDED):
        return
    venv_python = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
    if venv_python.is_file() and Path(sys.prefix).resolve() != venv_python.parent.parent.resolve():
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *argv])
    missing = ", ".join(name for name in _NEEDED if importlib.util.find_spec(name) is None)
    sys.exit(f"atelier: this Python ({sys.executable}) does not have Atelier's libraries ({missing}): run "
             "`make run` once in the project folder (it sets them up in .venv), then `.venv/bin/atelier ...`")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from desktop.cli import dispatch

    return dispatch(argv)


if __name__ == "__main__":
    _hand_over_to_the_venv(sys.argv[1:])
    sys.exit(main())
