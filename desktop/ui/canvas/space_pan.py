"""Space held over the canvas pans it, whichever widget has the keyboard (Krita, Photoshop, GIMP).

The Space key goes to the focused widget, often the prompt box, so the canvas would never see it
and a Space+drag would paint. This filter watches the whole application: while the pointer is over
the canvas, Space is held for the canvas. A Space that did not pan is given back to the focused
widget as the space it was (typed before any key pressed while it was down, so fast typing keeps its
order); only the auto-repeat of a held Space is lost.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget


class SpacePan(QObject):
    """Application event filter: tells the canvas when Space is held for it, and replays unused spaces."""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.held = False
        self.used = False  # a pan happened while Space was down: the Space was not typing
        self._owner: QWidget | None = None  # the widget the Space press went to
        self._replaying = False
        QApplication.instance().installEventFilter(self)

    def note_pan(self) -> None:
        self.used = True

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if self._replaying or kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        space = event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier
        if not self.held:
            if space and kind == QEvent.Type.KeyPress and not event.isAutoRepeat() and self._over_canvas(watched):
                self.held, self.used, self._owner = True, False, watched if isinstance(watched, QWidget) else None
                self.canvas.set_space_held(True)
                return True
            return False
        if space:
            if kind == QEvent.Type.KeyRelease and not event.isAutoRepeat():
                self._release(type_it=not self.used)
            return True  # the press's auto-repeats, and its release
        if kind == QEvent.Type.KeyPress and not self.used:
            self._release(type_it=True)  # typing went on while Space was down: it was a space, type it first
        return False

    def _release(self, type_it: bool) -> None:
        self.held = False
        self.canvas.set_space_held(False)
        owner, self._owner = self._owner, None
        if type_it and owner is not None and owner is not self.canvas:
            self._replaying = True
            try:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(owner, QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " "))
            finally:
                self._replaying = False

    def _over_canvas(self, watched) -> bool:
        canvas = self.canvas
        if not canvas.isVisible() or canvas.pointer_position() is None:
            return False
        if QApplication.activePopupWidget() is not None or QApplication.activeModalWidget() is not None:
            return False
        return isinstance(watched, QWidget) and watched.window() is canvas.window()
