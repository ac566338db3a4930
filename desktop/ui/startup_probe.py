"""A timing hook for benchmarks/startup.py: print when the window first paints or is ready, then quit.

Enabled only by ATELIER_EXIT_AFTER=paint|ready. It prints `atelier-timing paint <epoch s>` at the
main window's first paint event and `atelier-timing ready <epoch s>` once the selected model is
loaded, so the parent process can subtract its own spawn time.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer, Slot

from desktop.core.messages import Status


class StartupProbe(QObject):
    """Watches the window's first paint and the first model load; reports and quits when told."""

    def __init__(self, app, atelier, exit_after: str) -> None:
        super().__init__(atelier.window)
        self.app, self.exit_after, self.painted = app, exit_after, False
        atelier.window.installEventFilter(self)
        atelier.client.status.connect(self._on_status)  # "model loaded" is a status of no job
        atelier.controller.error.connect(self._on_error)  # the preload's failure comes through its handle

    def _report(self, what: str) -> None:
        sys.stdout.write(f"atelier-timing {what} {time.time():.6f}\n")
        sys.stdout.flush()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            self._report("paint")
            if self.exit_after == "paint":
                QTimer.singleShot(0, self.app.quit)
        return False

    @Slot(object)
    def _on_status(self, message) -> None:
        if isinstance(message, Status) and message.model:
            self._end("ready")

    @Slot(str)
    def _on_error(self, _text: str) -> None:
        self._end("failed")

    def _end(self, what: str) -> None:
        self._report(what)
        if self.exit_after == "ready":
            QTimer.singleShot(0, self.app.quit)
