"""Autosave and crash recovery: a killed app's work comes back at the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer, RenameLayer
from desktop.core.openraster import ProjectError, save_ora
from desktop.core.recovery import Autosaver, discard_leftover, find_leftovers, recovery_folder, restore

REPO = Path(__file__).resolve().parents[2]


class Clock:
    """A clock the test moves by hand, so intervals need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def edited_document() -> Document:
    document = Document.blank(48, 32)
    document.history.do(AddLayer(Layer("Sketch", np.full((32, 48, 4), 77, np.uint8))))
    return document


def pretend_owner_died(autosaver: Autosaver) -> None:
    note = json.loads(autosaver.note.read_text())
    note["pid"], note["process_started"] = 2**22 + 12345, 1.0  # no such process
    autosaver.note.write_text(json.dumps(note))


def test_autosave_waits_for_changes_and_the_interval(app_paths):
    clock = Clock()
    document = Document.blank(16, 16)
    saver = Autosaver(document, recovery_folder(app_paths.data_dir), 1.0, clock, background=False)
    assert not saver.tick() and not saver.project.exists()  # nothing unsaved
    document.history.do(RenameLayer(document.layers[0].id, "Paper"))
    assert not saver.tick()  # changed, but the minute has not passed
    clock.now += 59
    assert not saver.tick()
    clock.now += 2
    assert saver.tick() and saver.project.exists() and saver.note.exists()
    clock.now += 600
    assert not saver.tick()  # nothing new since the autosave
    document.history.do(RenameLayer(document.layers[0].id, "Canvas"))
    clock.now += 30
    assert not saver.tick()
    clock.now += 31
    assert saver.tick()


def test_a_clean_save_removes_the_recovery_file(app_paths, tmp_path):
    clock = Clock()
    document = edited_document()
    saver = Autosaver(document, recovery_folder(app_paths.data_dir), 0.5, clock, background=False)
    saver.tick()
    clock.now += 31
    assert saver.tick() and saver.project.exists()
    save_ora(document, tmp_path / "mine.ora")
    document.mark_saved(tmp_path / "mine.ora")
    assert not saver.tick()
    assert not saver.project.exists() and not saver.note.exists()


def test_interval_zero_turns_autosave_off(app_paths):
    clock = Clock()
    saver = Autosaver(edited_document(), recovery_folder(app_paths.data_dir), 0, clock, background=False)
    clock.now += 10**6
    assert not saver.tick() and not saver.project.exists()


def test_autosave_then_recovery_restores_the_layers(app_paths):
    folder = recovery_folder(app_paths.data_dir)
    document = edited_document()
    document.path = Path("/art/fox.ora")
    saver = Autosaver(document, folder, 1.0, background=True)
    saver.save_now()
    saver.wait()
    assert find_leftovers(folder) == []  # this app is still running: not a leftover
    pretend_owner_died(saver)
    leftovers = find_leftovers(folder)
    assert len(leftovers) == 1 and leftovers[0].original_path == "/art/fox.ora" and leftovers[0].title == "fox.ora"
    assert "fox.ora (/art/fox.ora), autosaved" in leftovers[0].describe()
    restored = restore(leftovers[0])
    assert [l.name for l in restored.layers] == ["Background", "Sketch"]
    assert np.array_equal(restored.composite(), document.composite())
    assert restored.modified and restored.path == Path("/art/fox.ora")
    assert not restored.history.can_undo


def test_adopting_a_leftover_keeps_it_protected_until_the_next_save(app_paths):
    folder = recovery_folder(app_paths.data_dir)
    first = Autosaver(edited_document(), folder, background=False)
    first.save_now()
    pretend_owner_died(first)
    leftover = find_leftovers(folder)[0]
    document = restore(leftover)
    saver = Autosaver(document, folder, background=False)
    saver.adopt(leftover)
    assert saver.project == leftover.project and leftover.project.exists()
    assert find_leftovers(folder) == []  # ours now
    assert json.loads(saver.note.read_text())["pid"] == os.getpid()
    saver.discard()
    assert not leftover.project.exists()


def test_a_declined_or_damaged_leftover(app_paths):
    folder = recovery_folder(app_paths.data_dir)
    saver = Autosaver(edited_document(), folder, background=False)
    saver.save_now()
    pretend_owner_died(saver)
    saver.note.write_text("{ not json")  # a broken note: the project is still offered
    leftover = find_leftovers(folder)[0]
    assert leftover.original_path is None and leftover.title == "Untitled"
    saver.project.write_bytes(b"garbage")
    with pytest.raises(ProjectError, match="recovery file cannot be restored"):
        restore(leftover)
    discard_leftover(leftover)
    assert find_leftovers(folder) == [] and list(folder.iterdir()) == []
    assert find_leftovers(folder / "missing") == []


def test_a_full_disk_does_not_break_the_app(app_paths, monkeypatch):
    from desktop.core import recovery

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recovery, "save_ora", full)
    saver = Autosaver(edited_document(), recovery_folder(app_paths.data_dir), background=False)
    saver.save_now()
    assert "No space left" in saver.last_error


CRASHING_APP = r"""
import sys, time
import numpy as np
from pathlib import Path
from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer
from desktop.core.recovery import Autosaver

document = Document.blank(40, 30)
document.path = Path("/art/crash.ora")
document.history.do(AddLayer(Layer("Unsaved work", np.full((30, 40, 4), 123, np.uint8))))
Autosaver(document, Path(sys.argv[1]), background=False).save_now()
print("autosaved", flush=True)
time.sleep(120)
"""


def test_after_a_kill_the_next_start_offers_the_work_back(app_paths):
    folder = recovery_folder(app_paths.data_dir)
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_APP, str(folder)], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout.readline().strip() == "autosaved"
        assert find_leftovers(folder) == []  # still running
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    leftovers = find_leftovers(folder)
    assert len(leftovers) == 1 and leftovers[0].original_path == "/art/crash.ora"
    document = restore(leftovers[0])
    assert [l.name for l in document.layers] == ["Background", "Unsaved work"]
    assert np.all(document.layers[1].pixels == 123)
