"""A save killed midway leaves its temp file; the next save of that file (or the next start) removes it,
but only files this writer named, and only when their process is gone or they are very old."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from desktop.core.atomic import sweep_stale_temp_files
from desktop.core.document import Document
from desktop.core.openraster import load_ora, save_ora

ROOT = Path(__file__).resolve().parents[2]
_SAVE_AND_HANG = """
import sys, time
from desktop.core.atomic import write_atomic
def write(handle):
    handle.write(b"x" * 100_000)
    handle.flush()
    print("writing", flush=True)
    time.sleep(120)
write_atomic(sys.argv[1], write)
"""


def _start_save(path: Path) -> subprocess.Popen:
    """A process stopped in the middle of saving `path` (its temp file written, not yet renamed)."""
    child = subprocess.Popen([sys.executable, "-c", _SAVE_AND_HANG, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "writing"
    return child


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_next_save_removes_what_killed_saves_left(tmp_path):
    path = tmp_path / "work.ora"
    save_ora(Document.blank(32, 32), path)
    for _ in range(3):  # kill -9 in the middle of three saves
        child = _start_save(path)
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert len(_leftovers(tmp_path)) == 1  # each save cleared the one killed before it: they never pile up
    running = _start_save(path)  # a save still going on in another process: not ours to remove
    try:
        save_ora(Document.blank(48, 48), path)
        [kept] = _leftovers(tmp_path)
        assert f".{running.pid}-" in kept
    finally:
        running.kill()
        running.wait()
    save_ora(Document.blank(48, 48), path)
    assert _leftovers(tmp_path) == [] and load_ora(path).width == 48


def test_only_our_own_pattern_and_only_old_or_dead_ones_go(tmp_path):
    now = time.time()
    dead_pid = _dead_pid()
    files = {
        f".work.ora.{dead_pid}-0badc0de.tmp": now,  # a killed save: goes
        f".work.ora.{os.getpid()}-00000001.tmp": now,  # a save in progress here: stays
        f".work.ora.{os.getpid()}-00000002.tmp": now - 2 * 86400,  # two days old, whoever: goes
        ".work.ora.k3j_a9zq.tmp": now - 7200,  # old-style (mkstemp) name, two hours old: goes
        ".work.ora.k3j_a9zr.tmp": now - 60,  # old-style, a minute old: may be a save going on: stays
        f".other.ora.{dead_pid}-0badc0de.tmp": now,  # another file's: not this save's business
        "notes.tmp": now - 10 * 86400,  # the user's own file: never
        f".work.ora.{dead_pid}-0badc0de.tmp.keep": now - 10 * 86400,  # not our pattern
    }
    for name, mtime in files.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (mtime, mtime))
    removed = sweep_stale_temp_files(tmp_path, "work.ora", now=now)
    assert sorted(p.name for p in removed) == sorted([f".work.ora.{dead_pid}-0badc0de.tmp",
                                                      f".work.ora.{os.getpid()}-00000002.tmp",
                                                      ".work.ora.k3j_a9zq.tmp"])
    assert (tmp_path / f".other.ora.{dead_pid}-0badc0de.tmp").exists()
    sweep_stale_temp_files(tmp_path, now=now)  # the start-up sweep: any name, same rules
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        f".work.ora.{os.getpid()}-00000001.tmp", ".work.ora.k3j_a9zr.tmp", "notes.tmp",
        f".work.ora.{dead_pid}-0badc0de.tmp.keep"])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
