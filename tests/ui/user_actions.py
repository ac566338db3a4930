"""What a person does with the window, for the UI tests: menu commands, shortcuts, real dialogs.

A modal dialog blocks the code that opened it in exec(), so a test arranges the answer first
(`answer_dialog`) and then does what opens it; the answer runs when the dialog is up and fills in
the real widgets (a file name typed into a non-native QFileDialog, a button clicked).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QFileDialog, QLineEdit, QMenu, QMessageBox, QWidget

GIVE_UP_S = 10.0


class DialogAnswer:
    """A pending answer to the next modal dialog of a kind; `done` once it was given."""

    def __init__(self, kind: type, act: Callable[[QWidget], None]) -> None:
        self.kind, self.act = kind, act
        self.done = False
        self.seen: QWidget | None = None
        self.error: str = ""
        self._deadline = time.monotonic() + GIVE_UP_S
        QTimer.singleShot(0, self._poll)

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, self.kind) and dialog.isVisible():
            self.seen = dialog
            try:
                self.act(dialog)
            except BaseException as error:  # noqa: BLE001 - reported by check(); the dialog must not stay up
                self.error = f"answering {dialog.windowTitle()!r} failed: {error!r}"
                if dialog.isVisible() and hasattr(dialog, "reject"):
                    dialog.reject()
            else:
                self.done = True
            return
        if time.monotonic() > self._deadline:
            self.error = f"no {self.kind.__name__} opened within {GIVE_UP_S:.0f} s (saw {type(dialog).__name__})"
            if isinstance(dialog, QDialog):
                dialog.reject()  # never leave a test stuck in exec()
            return
        QTimer.singleShot(10, self._poll)

    def check(self) -> QWidget:
        """The answer was given (waits for a dialog opened without blocking, like the close question)."""
        deadline = time.monotonic() + GIVE_UP_S
        while not (self.done or self.error) and time.monotonic() < deadline:
            QTest.qWait(10)
        assert self.done and not self.error, self.error or f"the {self.kind.__name__} was not answered"
        return self.seen


def answer_dialog(kind: type, act: Callable[[QWidget], None]) -> DialogAnswer:
    return DialogAnswer(kind, act)


def type_file_name(path: str | Path) -> Callable[[QWidget], None]:
    """Type a full path into a QFileDialog's file name field and press Enter, as a person does."""

    def act(dialog: QFileDialog) -> None:
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        assert edit is not None, "not a non-native QFileDialog: there is no file name field to type into"
        # the dialog fills in its suggested name once it has read the folder: type after that, as a person does
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and dialog.isVisible():
            QTest.qWait(50)
            if edit.text() or dialog.fileMode() in (QFileDialog.FileMode.ExistingFile, QFileDialog.FileMode.ExistingFiles,
                                                    QFileDialog.FileMode.Directory):
                break
        QTest.qWait(50)
        edit.setFocus()
        edit.selectAll()
        QTest.keyClicks(edit, str(path))
        assert edit.text() == str(path), edit.text()
        QTest.keyClick(edit, QKeySequence("Return")[0].key())

    return act


def answer_file_dialog(path: str | Path) -> DialogAnswer:
    return answer_dialog(QFileDialog, type_file_name(path))


def click_button(text: str) -> Callable[[QWidget], None]:
    """Click the dialog's button labelled `text` (ampersands ignored)."""

    def act(dialog: QWidget) -> None:
        for button in dialog.findChildren(QWidget):
            label = getattr(button, "text", None)
            if callable(label) and hasattr(button, "click") and label().replace("&", "") == text:
                button.click()
                return
        raise AssertionError(f"no button {text!r} in {dialog.windowTitle()!r}")

    return act


def answer_message_box(button: QMessageBox.StandardButton) -> DialogAnswer:
    return answer_dialog(QMessageBox, lambda box: box.button(button).click())


def accept_dialog(change: Callable[[QDialog], None] = lambda dialog: None) -> DialogAnswer:
    """Change the dialog's fields, then press its OK (the button box's accept button)."""

    def act(dialog: QDialog) -> None:
        change(dialog)
        box = dialog.findChild(QDialogButtonBox)
        ok = box.button(QDialogButtonBox.StandardButton.Ok) if box is not None else None
        (ok.click if ok is not None else dialog.accept)()

    return answer_dialog(QDialog, act)


# ---------------------------------------------------------------------- menus and shortcuts
def menu_actions(window) -> dict[str, QAction]:
    """Every command in the window's menus as 'Menu > Item' (submenus nested), ampersands removed."""
    found: dict[str, QAction] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            name = f"{path} > {clean(action.text())}"
            if action.menu() is not None:
                found[name] = action
                walk(action.menu(), name)
            else:
                found[name] = action

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), clean(top.text()))
    return found


def clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def make_active(window) -> None:
    """Window shortcuts work in the active window only: activate it, as a click on it would."""
    window.activateWindow()
    deadline = time.monotonic() + 2.0
    while not window.isActiveWindow() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    assert window.isActiveWindow(), "the window could not be activated"


def send_keys(window, keys: str) -> None:
    """Press a key combination like 'Ctrl+Shift+S' on the active main window, as a person does."""
    make_active(window)
    sequence = QKeySequence(keys)
    assert sequence.count() == 1, keys
    combination = sequence[0]
    QTest.keyClick(window, combination.key(), combination.keyboardModifiers())



class Person:
    """One started Atelier and what a person does with it: menu commands, keys, drags, files."""

    def __init__(self, app, qtbot, folder: Path, command: str = "", action: QAction | None = None) -> None:
        self.app, self.qtbot, self.folder = app, qtbot, Path(folder)
        self.command, self.action = command, action

    # the window's parts, as the checks read them
    @property
    def window(self):
        return self.app.window

    @property
    def canvas(self):
        return self.app.window.canvas

    @property
    def documents(self):
        return self.app.workspace.documents

    @property
    def document(self):
        return self.app.workspace.documents.document

    @property
    def layers(self):
        return self.app.workspace.layers

    def layer_names(self) -> list[str]:
        """What the Layers panel lists, top first."""
        return [self.layers.list.item(row).text() for row in range(self.layers.list.count())]

    def status(self) -> str:
        return self.window.statusBar().currentMessage()

    # doing things
    def run(self) -> None:
        """Do the command under test: its key with the canvas focused (as after a click on it), else its menu item."""
        keys = self.action.shortcut().toString() if self.action is not None else self.command
        if keys:
            self.press(keys)
        else:
            self.action.trigger()

    def press(self, keys: str) -> None:
        make_active(self.window)
        self.canvas.setFocus()
        sequence = QKeySequence(keys)
        assert sequence.count() == 1, keys
        combination = sequence[0]
        # "}" is sent as Qt's shortcut map sees Shift+] from a real keyboard (the key mapper drops the Shift)
        QTest.keyClick(QApplication.focusWidget() or self.window, combination.key(), combination.keyboardModifiers())

    def open_picture(self, width: int = 64, height: int = 64, name: str = "picture") -> Path:
        """A picture file opened on the canvas (the state most commands start from)."""
        import numpy as np
        from PIL import Image

        ys, xs = np.mgrid[0:height, 0:width]
        rgba = np.stack([(xs * 4) % 256, (ys * 4) % 256, (xs * 7 + ys * 3) % 256, np.full_like(xs, 255)], -1)
        path = self.folder / f"{name}.png"
        Image.fromarray(rgba.astype(np.uint8)).save(path)
        assert self.documents.open_path(path)
        return path
