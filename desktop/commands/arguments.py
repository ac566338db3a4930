"""Argument types shared by the subcommands: argparse turns a refusal into one line and exit code 2."""

from __future__ import annotations

import argparse


def utf8_text(value: str) -> str:
    """Text a person typed. Bytes that are not UTF-8 reach Python as lone surrogates; refuse them here,
    with where they are, instead of failing later inside a tokenizer or a PNG writer."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raw = value.encode("utf-8", "surrogateescape")[max(0, error.start - 10): error.start + 10]
        raise argparse.ArgumentTypeError(
            f"is not valid UTF-8 text (near {raw!r}): set the terminal or the script to UTF-8, or "
            "convert the text first (for example with iconv)") from None
    return value


def scheduler_name(value: str) -> str:
    """A sampler name as the app lists it, whatever its case or spacing: `euler a`, `DPM++ 2M karras`."""
    from desktop.core.params import SCHEDULERS

    wanted = " ".join(utf8_text(value).split()).casefold()
    for name in SCHEDULERS:
        if name.casefold() == wanted:
            return name
    raise argparse.ArgumentTypeError(f"unknown scheduler {value!r}: choose one of {', '.join(SCHEDULERS)}")


def read_stdin_text(stream) -> str:
    """Standard input as UTF-8 text; ValueError saying so when it is not."""
    data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    if isinstance(data, str):
        return utf8_text(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"standard input is not valid UTF-8 text (byte {data[error.start]:#04x} at position "
                         f"{error.start}): convert it first, for example with iconv") from None


def png_out_problem(out, given: str) -> str | None:
    """Why `out` (a Path; `given` as the person wrote it) cannot take the PNG a command writes, or None."""
    if out.suffix.lower() != ".png":
        return f"--out must name a .png file, got {given!r}"
    if not out.parent.exists():
        return f"the folder {out.parent} does not exist"
    return None
