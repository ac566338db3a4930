"""A Krita project with groups and blend modes in the window: drawn with them, the notice about what a
save would drop shown on opening, Ctrl+S keeping the rest; a hostile file refused with a message."""

from __future__ import annotations

import numpy as np
from ora_samples import krita_file
from PySide6.QtCore import Qt

from desktop.core.openraster import load_ora


def _canvas_rgb(canvas, x: int, y: int) -> list[int]:
    color = canvas.image.pixelColor(x, y)
    return [color.red(), color.green(), color.blue()]


def test_open_draws_blend_modes_says_what_cannot_be_kept_and_ctrl_s_keeps_groups(qtbot, workspace, tmp_path):
    window, docs = workspace.window, workspace.documents
    path = krita_file(tmp_path / "painting.ora")
    assert docs.open_path(path)
    document = docs.document
    composite = document.composite()
    assert _canvas_rgb(window.canvas, 1, 1) == composite[1, 1, :3].tolist()
    assert composite[1, 1, :3].tolist() != [128, 128, 128]  # the multiply and screen layers did blend
    shown = window.prompt_panel.notice.text() + window.statusBar().currentMessage()
    assert "cannot be kept" in shown and "Save As" in shown  # said before anything could be lost
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    again = load_ora(path)
    assert [(l.name, l.blend, [g.name for g in l.groups]) for l in again.layers] == \
        [(l.name, l.blend, [g.name for g in l.groups]) for l in document.layers]
    assert np.array_equal(again.composite(), composite)


def test_a_project_nested_thousands_deep_gets_a_message_and_changes_nothing(qtbot, workspace, tmp_path):
    import zipfile

    window, docs = workspace.window, workspace.documents
    assert docs.open_path(krita_file(tmp_path / "kept.ora"))
    before = docs.document
    deep = tmp_path / "deep.ora"
    with zipfile.ZipFile(deep, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        archive.writestr("stack.xml", b"<image w='4' h='4'><stack>" + b"<stack>" * 100_000 + b"</stack>" * 100_000
                         + b"</stack></image>")
    assert not docs.open_path(deep)
    assert "nests groups more than" in window.prompt_panel.notice.text()
    assert docs.document is before
