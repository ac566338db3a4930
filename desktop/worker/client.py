"""The one client protocol the UI talks to: the local lane, a ComfyUI server, an OpenAI-compatible server.

A client takes immutable jobs and returns a `JobHandle` per job. The handle delivers that job's
messages (and only that job's) on the GUI thread, in order, ending with exactly one of Done,
Cancelled or Failed. Nobody filters a broadcast by job id any more (krita-ai-diffusion's `Client`,
our own code review). Messages that belong to no job (a model loaded, a server went away) come out
of `EngineClient.status`.

Every client runs its work on a `Worker` lane: the local client's lane owns the models; a remote
client's lane owns its network connection. So cancel, queueing and "exactly one terminal message"
behave the same whichever engine runs the job.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.messages import TERMINAL
from desktop.worker.lane import Worker


class JobHandle(QObject):
    """One submitted job: its messages on the GUI thread, then `finished` with the terminal one."""

    message = Signal(object)  # every message of this job, the terminal one included
    finished = Signal(object)  # Done, Cancelled or Failed, once

    def __init__(self, job, client: "EngineClient") -> None:
        # no Qt parent: a handle lives as long as the client (until the job ends) or a holder needs it, so
        # the messages it keeps (results among them) go away with it instead of piling up for the session
        super().__init__()
        self.job = job
        self.job_id: int = job.job_id
        self._client = client
        self.terminal = None  # the terminal message, once it came
        self.received: list = []  # every message so far (cheap: previews are small, tokens batched)

    @property
    def done(self) -> bool:
        return self.terminal is not None

    def cancel(self) -> bool:
        """Stop this job: running, it ends Cancelled within about one step; waiting, it is dropped."""
        return False if self.done else self._client.cancel(self.job_id)

    def _deliver(self, message) -> None:
        if self.done:
            return  # nothing after the terminal message
        self.received.append(message)
        if isinstance(message, TERMINAL):
            self.terminal = message
        self.message.emit(message)
        if self.terminal is not None:
            self.finished.emit(message)


class EngineClient(QObject):
    """Runs jobs on a lane and hands back a JobHandle for each; lives on the GUI thread."""

    status = Signal(object)  # messages without a job (Status about models, devices, servers)
    queue_changed = Signal(int)  # jobs waiting, not counting the running one
    busy_changed = Signal(bool)

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name  # what the user chose, in words: "This computer", "ComfyUI at http://…"
        self.worker = worker
        self._handles: dict[int, JobHandle] = {}
        # a method of this GUI-thread object: the queued connection runs it on the GUI thread (facts.md)
        worker.message.connect(self._on_message)
        worker.queue_changed.connect(self.queue_changed)
        worker.busy_changed.connect(self.busy_changed)

    def accepts(self, job) -> bool:
        """Whether this client can run this kind of job."""
        return type(job) in self.worker._handlers

    def submit(self, job) -> JobHandle:
        handle = JobHandle(job, self)
        self._handles[job.job_id] = handle  # before the lane can answer
        try:
            self.worker.submit(job)
        except Exception:
            del self._handles[job.job_id]
            raise
        return handle

    def handle(self, job_id: int) -> JobHandle | None:
        return self._handles.get(job_id)

    def cancel(self, job_id: int) -> bool:
        return self.worker.cancel(job_id)

    def cancel_current(self) -> bool:
        return self.worker.cancel_current()

    def clear_queue(self) -> int:
        return self.worker.clear_queue()

    @property
    def pending(self) -> int:
        return self.worker.pending

    @property
    def running_job(self):
        """The job the lane runs now (any feature's), or None."""
        return self.worker.running_job

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    @Slot(object)
    def _on_message(self, message) -> None:
        handle = self._handles.get(getattr(message, "job_id", None))
        if handle is None:
            self.status.emit(message)
            return
        if isinstance(message, TERMINAL):
            del self._handles[handle.job_id]
        handle._deliver(message)


class LocalClient(EngineClient):
    """This computer: the model lane that owns every loaded model."""

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(worker, "This computer", parent)
