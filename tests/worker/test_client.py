"""The client protocol over the real lane: each handle gets its own job's messages, in order, once."""

import threading

import pytest

from desktop.core.messages import Cancelled, Done, Failed, JobCancelled, Status, next_job_id
from desktop.worker.client import LocalClient
from desktop.worker.lane import Worker
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CountJob:
    """Emits `count` statuses-with-job, then ends; `fail` raises; `block` waits for cancel."""

    count: int = 3
    fail: bool = False
    block: bool = False
    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class Step:
    job_id: int
    n: int


def run_count(context):
    job = context.job
    context.emit(Status("lane says hello"))  # no job id: goes to client.status
    for n in range(job.count):
        context.emit(Step(job.job_id, n))
    if job.fail:
        raise RuntimeError("broken on purpose")
    if job.block:
        while not context.cancel.wait(0.01):
            pass
        raise JobCancelled()


@pytest.fixture
def client(qtbot):
    client = LocalClient(Worker({CountJob: run_count}))
    client.start()
    yield client
    client.stop()


def test_each_handle_gets_only_its_own_messages_in_order_and_one_terminal(qtbot, client):
    first, second = client.submit(CountJob(3)), client.submit(CountJob(2))
    statuses = []
    client.status.connect(statuses.append)
    qtbot.waitUntil(lambda: first.done and second.done, timeout=10000)
    for handle, count in ((first, 3), (second, 2)):
        kinds = [type(m).__name__ for m in handle.received]
        assert kinds == ["Started"] + ["Step"] * count + ["Done"]
        assert [m.n for m in handle.received if isinstance(m, Step)] == list(range(count))
        assert all(m.job_id == handle.job_id for m in handle.received)
    assert any(isinstance(s, Status) for s in statuses)


def test_failed_and_cancelled_jobs_end_their_handles(qtbot, client):
    bad = client.submit(CountJob(1, fail=True))
    blocked = client.submit(CountJob(0, block=True))
    waiting = client.submit(CountJob(1))
    finished = []
    waiting.finished.connect(finished.append)
    qtbot.waitUntil(lambda: bad.done and bool(blocked.received), timeout=10000)
    assert isinstance(bad.terminal, Failed) and "broken on purpose" in bad.terminal.message
    assert waiting.cancel()  # waiting in the queue: dropped
    assert blocked.cancel()  # running: stops at its next check
    qtbot.waitUntil(lambda: blocked.done and waiting.done, timeout=10000)
    assert isinstance(blocked.terminal, Cancelled) and isinstance(waiting.terminal, Cancelled)
    assert finished == [waiting.terminal]
    assert not waiting.cancel()  # nothing to cancel after the end


def test_accepts_only_job_types_the_lane_runs(client):
    assert client.accepts(CountJob())
    assert not client.accepts(Step(0, 0))
    with pytest.raises(TypeError):
        client.submit(Step(0, 0))


def test_a_finished_handle_nobody_keeps_is_freed_with_its_messages(qtbot, client):
    import gc
    import weakref

    handle = client.submit(CountJob(2))
    gone = weakref.ref(handle)
    qtbot.waitUntil(lambda: gone().done, timeout=10000)
    del handle
    gc.collect()
    assert gone() is None and client.handle(0) is None
