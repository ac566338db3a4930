"""Atelier. With no subcommand, opens the app; subcommands run headless (see --help)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from desktop.cli import dispatch

    return dispatch(argv)


if __name__ == "__main__":
    sys.exit(main())
