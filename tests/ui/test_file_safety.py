"""Saving from the window: through a symlink, keeping the file's mode; a killed save's leftovers go at start."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt

from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer
from desktop.core.openraster import load_ora, save_ora


def test_ctrl_s_on_a_project_opened_through_a_symlink_saves_the_target(qtbot, workspace, tmp_path):
    real = tmp_path / "projects" / "harbour.ora"
    real.parent.mkdir()
    save_ora(Document.blank(32, 32), real)
    os.chmod(real, 0o664)  # shared with the group
    link = tmp_path / "desk" / "harbour.ora"
    link.parent.mkdir()
    link.symlink_to(real)
    docs = workspace.documents
    assert docs.open_path(link)
    docs.document.history.do(AddLayer(Layer("ink", np.zeros((4, 4, 4), np.uint8))))
    qtbot.keyClick(workspace.window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not docs.document.modified, timeout=5000)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(load_ora(real).layers) == 2
    assert oct(stat.S_IMODE(real.stat().st_mode)) == oct(0o664)
    assert sorted(p.name for p in link.parent.iterdir()) == ["harbour.ora"]


def test_start_removes_what_killed_saves_left_in_ateliers_folders(qtbot, start_atelier, app_paths, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    projects = tmp_path / "projects"
    projects.mkdir()
    leftovers = [app_paths.outputs_dir / f".00001-5.png.{dead.pid}-0badc0de.tmp",
                 app_paths.config_dir / f".settings.json.{dead.pid}-0badc0de.tmp",
                 projects / f".harbour.ora.{dead.pid}-0badc0de.tmp"]
    for path in leftovers:
        path.write_bytes(b"x" * 1000)
    mine = projects / "harbour.ora.tmp"  # the user's own file, not our pattern
    mine.write_bytes(b"keep")
    start_atelier({}, show=False, recent_files=[str(projects / "harbour.ora")])
    qtbot.waitUntil(lambda: not any(path.exists() for path in leftovers), timeout=5000)
    assert mine.read_bytes() == b"keep"
