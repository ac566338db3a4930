"""The model lane: one background thread that runs jobs one at a time from a FIFO queue.

Jobs are immutable values; each type has a handler that runs on the lane thread and reports
through `JobContext.emit`. Every job ends with exactly one of Done, Cancelled or Failed, and a
failing job never stops the lane. The lane owns long-lived resources (engines) in
`JobContext.resources`, so models stay loaded between jobs and only this thread touches them.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from desktop.core.messages import Cancelled, Done, Failed, JobCancelled, Started

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a handler gets: the job, its cancel flag, a way to report, and the lane's resources."""

    job: object
    cancel: threading.Event
    emit: Callable[[object], None]
    resources: dict


Handler = Callable[[JobContext], None]


def readable_error(error: BaseException) -> str:
    """One line a person can act on; the traceback goes to the log."""
    text = str(error).strip() or error.__class__.__name__
    if isinstance(error, MemoryError):
        return "out of memory: try a smaller size or batch, or close other programs"
    return text.splitlines()[0] if len(text) < 400 else text[:400] + "..."


class _LaneThread(QThread):
    def __init__(self, worker: "Worker") -> None:
        super().__init__()
        self.setObjectName("atelier-model-lane")
        self._worker = worker

    def run(self) -> None:
        self._worker._run_loop()


class Worker(QObject):
    """Runs jobs on one background thread; speaks only in immutable messages via `message`."""

    message = Signal(object)
    queue_changed = Signal(int)  # jobs waiting, not counting the running one
    busy_changed = Signal(bool)

    def __init__(self, handlers: dict[type, Handler], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handlers = dict(handlers)
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Condition()
        self._current = None
        self._current_cancel: threading.Event | None = None
        self._stopping = False
        self.resources: dict = {}
        self._thread = _LaneThread(self)

    # ------------------------------------------------------------------ GUI-thread API
    def add_handler(self, job_type: type, handler: Handler) -> None:
        self._handlers[job_type] = handler

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()

    def submit(self, job) -> int:
        if type(job) not in self._handlers:
            raise TypeError(f"no handler for {type(job).__name__}")
        with self._lock:
            self._queue.append(job)
            pending = len(self._queue)
            self._lock.notify()
        self.queue_changed.emit(pending)
        return job.job_id

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def running_job(self):
        return self._current

    def cancel_current(self) -> bool:
        """Ask the running job to stop; it ends with Cancelled within about one step."""
        with self._lock:
            if self._current_cancel is None:
                return False
            self._current_cancel.set()
            return True

    def cancel(self, job_id: int) -> bool:
        """Cancel one job, running or waiting."""
        with self._lock:
            if self._current is not None and self._current.job_id == job_id:
                self._current_cancel.set()
                return True
            for job in list(self._queue):
                if job.job_id == job_id:
                    self._queue.remove(job)
                    break
            else:
                return False
            pending = len(self._queue)
        self.message.emit(Cancelled(job_id, "removed from the queue"))
        self.queue_changed.emit(pending)
        return True

    def clear_queue(self) -> int:
        """Drop every waiting job (each reports Cancelled); the running one goes on."""
        with self._lock:
            dropped = list(self._queue)
            self._queue.clear()
        for job in dropped:
            self.message.emit(Cancelled(job.job_id, "queue cleared"))
        self.queue_changed.emit(0)
        return len(dropped)

    def stop(self, timeout_ms: int = 10000) -> None:
        """Cancel everything and end the thread (at app exit)."""
        self.clear_queue()
        with self._lock:
            self._stopping = True
            if self._current_cancel is not None:
                self._current_cancel.set()
            self._lock.notify_all()
        if self._thread.isRunning():
            self._thread.wait(timeout_ms)

    # ------------------------------------------------------------------ lane thread
    def _run_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                job = self._queue.popleft()
                pending = len(self._queue)
                self._current = job
                self._current_cancel = threading.Event()
                cancel = self._current_cancel
            self.queue_changed.emit(pending)
            self.busy_changed.emit(True)
            self._run_one(job, cancel)
            with self._lock:
                self._current = None
                self._current_cancel = None
                idle = not self._queue
            if idle:
                self.busy_changed.emit(False)

    def _run_one(self, job, cancel: threading.Event) -> None:
        start = time.perf_counter()
        self.message.emit(Started(job.job_id, type(job).__name__))
        context = JobContext(job, cancel, self.message.emit, self.resources)
        try:
            self._handlers[type(job)](context)
        except JobCancelled:
            self.message.emit(Cancelled(job.job_id))
        except Exception as error:  # a failing job must never stop the lane
            log.error("job %s failed:\n%s", job.job_id, traceback.format_exc())
            self.message.emit(Failed(job.job_id, readable_error(error)))
        else:
            self.message.emit(Done(job.job_id, time.perf_counter() - start))
