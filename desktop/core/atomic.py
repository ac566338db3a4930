"""Atomic writes: a crash or a kill never leaves a half-written user file.

A new file gets the mode the user's umask gives any new file (0644 with the usual 022, 0664 with
002), as `open()` would; overwriting keeps the existing file's mode; a path that is a symlink is
written through to its target, so the link stays a link. A save killed midway leaves its temporary
file behind; the next save of the same name (and `sweep_stale_temp_files` at start) removes such
leftovers, but only ones this writer named and whose process is gone (or that are a day old).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path
from typing import IO, Callable

TEMP_SUFFIX = ".tmp"
# `.<name>.<pid>-<random>.tmp`; earlier versions wrote `.<name>.<8 random>.tmp` (tempfile.mkstemp).
_OURS = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)-[0-9a-f]{8}|[a-z0-9_]{8})\.tmp$")
STALE_AFTER_S = 24 * 3600  # no save takes a day: a temp file that old is left over, whoever's it was
LEGACY_STALE_AFTER_S = 3600  # old-style names carry no process id: only age tells


def resolve_target(path: str | os.PathLike) -> Path:
    """Where a save to `path` really goes: through symlinks (a link to a missing file too) to the file."""
    return Path(os.path.realpath(path))


def current_umask() -> int:
    """The process umask, read from /proc so no thread's umask is changed even for a moment."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _open_temp(target: Path) -> tuple[int, Path]:
    """A new temp file beside `target`, created with 0o666 so the umask applies as to any new file."""
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None], mode: int | None = None) -> None:
    """Write through a temp file in the same folder, flush, fsync, then rename over `path`.

    The previous file stays intact until the rename, which the OS does in one step. `mode` (e.g. 0o600
    for a private key) is set before a byte is written; without it the umask or the old file decides.
    """
    target = resolve_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temp_files(target.parent, target.name)
    try:
        keep_mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        keep_mode = None
    fd, temp = _open_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None or keep_mode is not None:  # overwriting keeps the file's mode (0644 stays 0644)
                os.fchmod(handle.fileno(), mode if mode is not None else keep_mode)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def write_bytes_atomic(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    write_atomic(path, lambda handle: handle.write(data), mode)


def new_folder_mode() -> int:
    """The mode `mkdir` gives a new folder here (tempfile.mkdtemp makes 0700 ones)."""
    return 0o777 & ~current_umask()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def create_with_umask(path: str | os.PathLike) -> None:
    """Create `path` empty if it is missing, with the umask's mode (SQLite would use 0644 whatever the umask)."""
    try:
        os.close(os.open(resolve_target(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def sweep_stale_temp_files(folder: str | os.PathLike, name: str | None = None, now: float | None = None) -> list[Path]:
    """Remove temp files this writer left in `folder` (for the file `name` only, when given) by a save
    that was killed: its process is gone, or the file is a day old (an hour for old-style names).
    Never raises; returns what was removed."""
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _OURS.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            age = now - info.st_mtime
            pid = match["pid"]
            if pid is None:
                stale = age > LEGACY_STALE_AFTER_S
            else:
                stale = age > STALE_AFTER_S or not _process_alive(int(pid))
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
