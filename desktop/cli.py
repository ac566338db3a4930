"""Command-line entry: `--version`, headless subcommands, or (by default) the window."""

from __future__ import annotations

import argparse
import os
import sys

from desktop import __version__


class _Parser(argparse.ArgumentParser):
    """argparse that ends with one clear line and exit code 2, not a usage dump."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"atelier: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from desktop.commands import load_commands

    parser = _Parser(prog="atelier", description="Atelier: local generative art studio.")
    parser.add_argument("--version", action="version", version=f"Atelier {__version__}")
    parser.add_argument("--model", help="open the window with this model (path or name) selected")
    parser.add_argument("--selftest", action="store_true", help="run the self-test and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command in load_commands():
        command_parser = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(command_parser)
        command_parser.set_defaults(run=command.run)
    return parser


def dispatch(argv: list[str]) -> int:
    # offline by default: must be set before huggingface_hub is first imported (facts.md)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)  # command modules import nothing heavy at top level
    if args.selftest and not args.command:
        from desktop.commands import selftest

        return selftest.run(args)
    if not args.command:
        from desktop.app import run_app

        return run_app(model=args.model)
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, not at exit: a closed pipe is answered below, not with a traceback
        return code
    except KeyboardInterrupt:
        print("atelier: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `atelier models list --json | head`: the reader has all it wanted
        _discard_stdout()
        return BROKEN_PIPE


BROKEN_PIPE = 141  # what a shell reports for a writer ended by SIGPIPE (128 + 13)


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main() -> int:
    """The `atelier` command (pyproject's [project.scripts])."""
    return dispatch(sys.argv[1:])
