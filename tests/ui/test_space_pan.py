"""Space+drag pans the canvas wherever the keyboard is, and a Space that did not pan is still typed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from tests.ui.canvas_support import at, drag


def keys():
    return QApplication.focusWidget()  # where a real key press goes


def test_space_drag_pans_while_the_prompt_box_has_the_keyboard(qtbot, start_atelier):
    app = start_atelier({})
    documents, canvas, prompt = app.workspace.documents, app.window.canvas, app.window.prompt_panel.prompt
    documents.new_document(64, 64)
    pixels = app.workspace.document.composite().copy()
    prompt.setFocus()
    qtbot.keyClicks(prompt, "a fox")
    offset = QPointF(canvas.offset)  # a copy: panning changes the view's point in place
    qtbot.mouseMove(canvas, at(canvas, 10, 10))
    assert keys() is prompt

    qtbot.keyPress(keys(), Qt.Key.Key_Space)
    drag(qtbot, canvas, [(10, 10), (20, 15), (30, 30)])  # the brush is the tool: without Space this paints
    qtbot.keyRelease(keys(), Qt.Key.Key_Space)

    assert np.array_equal(app.workspace.document.composite(), pixels), "Space+drag painted"
    moved = canvas.offset - offset
    assert (round(moved.x() / canvas.zoom), round(moved.y() / canvas.zoom)) == (20, 20)
    assert prompt.toPlainText() == "a fox", "the held Space was typed into the prompt"
    assert not app.workspace.document.history.can_undo


def test_a_space_that_did_not_pan_is_typed_in_order(qtbot, start_atelier):
    app = start_atelier({})
    canvas, prompt = app.window.canvas, app.window.prompt_panel.prompt
    app.workspace.documents.new_document(64, 64)
    prompt.setFocus()
    qtbot.mouseMove(canvas, at(canvas, 5, 5))  # the pointer rests on the canvas while typing
    qtbot.keyClicks(prompt, "a")
    qtbot.keyClick(prompt, Qt.Key.Key_Space)
    qtbot.keyClicks(prompt, "fox")
    qtbot.keyPress(prompt, Qt.Key.Key_Space)  # fast typing: Space is still down when the next key goes
    qtbot.keyClick(prompt, Qt.Key.Key_I)
    qtbot.keyRelease(prompt, Qt.Key.Key_Space)
    qtbot.keyClicks(prompt, "n")
    assert prompt.toPlainText() == "a fox in"
    assert not app.workspace.document.history.can_undo
