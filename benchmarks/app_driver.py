"""Drives the real app in this process: the Atelier composition root, its worker and window, headless.

Sections use it to press Generate the way the window does (the prompt model's settings, then
GenerationController.generate) and to note, on the GUI thread, when previews and the result reach the canvas. It adds no work to the app's
own path beyond one timestamp per event.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot


@dataclass
class RunTimes:
    """perf_counter times of one generation as the GUI thread saw them."""

    pressed: float = 0.0
    started: float = 0.0  # the worker's Started message reached the GUI thread
    previews: list = field(default_factory=list)
    result: float = 0.0
    done: float = 0.0

    @property
    def wall_s(self) -> float:
        return self.result - self.pressed


class AppDriver(QObject):
    """One Atelier with a model selected; waits on the GUI thread without busy loops."""

    def __init__(self, model: Path, home: Path | None = None) -> None:
        super().__init__()
        from PySide6.QtWidgets import QApplication

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        self.app = QApplication.instance() or QApplication([])
        self._home = None if home else tempfile.TemporaryDirectory(prefix="atelier-bench-home-")
        os.environ["ATELIER_HOME"] = str(home or self._home.name)
        from desktop.app import Atelier
        from desktop.core.paths import AppPaths

        self.ready_at: float | None = None
        self.failure: str = ""
        self.run: RunTimes | None = None
        self._loop: QEventLoop | None = None
        self._until = None
        self.atelier = Atelier(paths=AppPaths.default(), model=str(model))
        self.atelier.client.status.connect(self._on_message)  # "model loaded": a status of no job
        self.atelier.controller.error.connect(self._on_error)
        self.atelier.controller.image_ready.connect(self._on_result)
        self.atelier.controller.idle_changed.connect(self._on_idle)
        canvas = self.atelier.window.canvas
        original = canvas.set_preview

        def set_preview(image, target=None):
            original(image, target)
            if self.run is not None:
                self.run.previews.append(time.perf_counter())

        canvas.set_preview = set_preview
        self.shown_at = time.perf_counter()
        self.atelier.window.show()

    # ------------------------------------------------------------------ waiting
    def wait(self, until, timeout_s: float = 600) -> None:
        """Run the GUI event loop until `until()` is true (checked whenever an app event arrives)."""
        if until():
            return
        self._loop, self._until = QEventLoop(), until
        timer = QTimer(singleShot=True)
        timer.timeout.connect(self._loop.quit)
        timer.start(int(timeout_s * 1000))
        self._loop.exec()
        self._loop = self._until = None
        if self.failure:
            raise RuntimeError(self.failure)
        if not until():
            raise TimeoutError(f"the app did not get there within {timeout_s:.0f} s")

    def sleep(self, seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def _check(self) -> None:
        if self._loop is not None and (self.failure or self._until()):
            self._loop.quit()

    @Slot(object)
    def _on_message(self, message) -> None:
        from desktop.core.messages import Started, Status

        if isinstance(message, Started) and self.run is not None and not self.run.started:
            self.run.started = time.perf_counter()
        if isinstance(message, Status) and message.model and self.ready_at is None:
            self.ready_at = time.perf_counter()
        self._check()

    @Slot(str)
    def _on_error(self, text: str) -> None:
        self.failure = text
        self._check()

    @Slot(object)
    def _on_result(self, _result) -> None:
        if self.run is not None and not self.run.result:
            self.run.result = time.perf_counter()
        self._check()

    @Slot(bool)
    def _on_idle(self, idle: bool) -> None:
        if idle and self.run is not None:
            self.run.done = time.perf_counter()
        self._check()

    # ------------------------------------------------------------------ actions
    def wait_ready(self, timeout_s: float = 600) -> float:
        self.wait(lambda: self.ready_at is not None, timeout_s)
        return self.ready_at - self.shown_at

    def generate(self, params, timeout_s: float = 900) -> RunTimes:
        """Press Generate with these params and wait until the job is over; returns the GUI-side times."""
        self.atelier.prompt.set_params(params)
        self.atelier.prompt.seed_locked = True  # exactly these params, seed included
        self.run = RunTimes(pressed=time.perf_counter())
        handle = self.atelier.controller.generate()
        if handle is not None:
            handle.message.connect(self._on_message)  # its Started, on the GUI thread
        self.wait(lambda: self.run.done > 0, timeout_s)
        run, self.run = self.run, None
        return run

    def close(self) -> None:
        self.atelier.shutdown()
        self.atelier.window.close()
        self.atelier.window.deleteLater()
        if self._home is not None:
            self._home.cleanup()
