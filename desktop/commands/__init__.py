"""Headless subcommands of `main.py`: one module per command, each with add_parser() and run().

A command module exposes:
    NAME: str                      the subcommand word
    HELP: str                      one line for --help
    add_arguments(parser) -> None
    run(args) -> int               exit code; prints one clear line on bad input and returns non-zero
Commands may use the engine directly (no Qt), never the UI.
"""

from __future__ import annotations

import importlib

# module names under desktop.commands; a module that is missing is skipped, so commands land independently
COMMAND_MODULES = ("generate", "info", "chat", "models", "selftest", "upscale")


def load_commands() -> list:
    commands = []
    for name in COMMAND_MODULES:
        try:
            commands.append(importlib.import_module(f"desktop.commands.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"desktop.commands.{name}":
                raise
    return commands
