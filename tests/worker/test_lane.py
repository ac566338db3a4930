"""The real worker lane with tiny real models: message order, cancel, queue, failures."""

import pytest

from desktop.core.messages import (
    Cancelled, Done, Failed, GenerateJob, ImageResult, LoadModelJob, Preview, Progress, Started,
)
from desktop.core.params import GenerationParams
from desktop.worker.image_jobs import image_handlers
from desktop.worker.lane import Worker

PARAMS = GenerationParams(prompt="a lighthouse at dusk", width=64, height=64, steps=3, seed=7)


class Recorder:
    """Collects worker messages on the GUI thread (a QObject method, as the app does)."""

    def __init__(self, worker):
        from PySide6.QtCore import QObject, Slot

        class _Sink(QObject):
            def __init__(self):
                super().__init__()
                self.messages = []

            @Slot(object)
            def on_message(self, message):
                self.messages.append(message)

        self.sink = _Sink()
        worker.message.connect(self.sink.on_message)

    def of(self, job_id):
        return [m for m in self.sink.messages if getattr(m, "job_id", None) == job_id]

    def terminal(self, job_id):
        return [m for m in self.of(job_id) if isinstance(m, (Done, Cancelled, Failed))]


@pytest.fixture
def worker(qtbot, tmp_path):
    worker = Worker(image_handlers(lambda: tmp_path / "outputs"))
    worker.start()
    yield worker
    worker.stop()


def wait_terminal(qtbot, recorder, job_id, timeout=60000):
    qtbot.waitUntil(lambda: bool(recorder.terminal(job_id)), timeout=timeout)


def test_progress_previews_image_then_exactly_one_done_in_order(qtbot, worker, tiny_sd15, tmp_path):
    recorder = Recorder(worker)
    job_id = worker.submit(GenerateJob(PARAMS, str(tiny_sd15)))
    wait_terminal(qtbot, recorder, job_id)
    kinds = [type(m).__name__ for m in recorder.of(job_id)]
    assert kinds[0] == "Started" and kinds[-1] == "Done"
    assert kinds.count("Preview") == 3 and kinds.count("ImageResult") == 1
    assert kinds.index("ImageResult") > max(i for i, k in enumerate(kinds) if k == "Preview")
    steps = [m.step for m in recorder.of(job_id) if isinstance(m, Progress)]
    assert steps == [0, 1, 2, 3]
    result = next(m for m in recorder.of(job_id) if isinstance(m, ImageResult))
    assert (result.image.width, result.image.height) == (64, 64)
    assert result.path and (tmp_path / "outputs").exists() and result.save_error == ""


def test_cancel_mid_run_then_the_next_queued_job_runs(qtbot, worker, tiny_sd15):
    recorder = Recorder(worker)
    worker.submit(LoadModelJob(str(tiny_sd15)))  # warm, so the cancel lands mid-generation
    slow = worker.submit(GenerateJob(PARAMS.replace(steps=150), str(tiny_sd15)))
    quick = worker.submit(GenerateJob(PARAMS, str(tiny_sd15)))
    qtbot.waitUntil(lambda: any(isinstance(m, Preview) for m in recorder.of(slow)), timeout=60000)
    assert worker.cancel_current()
    wait_terminal(qtbot, recorder, quick)
    assert [type(m) for m in recorder.terminal(slow)] == [Cancelled]
    assert not any(isinstance(m, ImageResult) for m in recorder.of(slow))
    previews = [m.step for m in recorder.of(slow) if isinstance(m, Preview)]
    assert max(previews) < 20  # stopped within about one step, not at the end
    assert [type(m) for m in recorder.terminal(quick)] == [Done]


def test_a_failing_job_is_reported_and_the_next_one_runs(qtbot, worker, tiny_sd15, tmp_path):
    recorder = Recorder(worker)
    bad = worker.submit(GenerateJob(PARAMS, str(tmp_path / "no-such-model")))
    good = worker.submit(GenerateJob(PARAMS, str(tiny_sd15)))
    wait_terminal(qtbot, recorder, good)
    failed = recorder.terminal(bad)
    assert len(failed) == 1 and isinstance(failed[0], Failed)
    assert "model_index.json" in failed[0].message
    assert [type(m) for m in recorder.terminal(good)] == [Done]


def test_clear_queue_cancels_waiting_jobs_and_reports_the_count(qtbot, worker, tiny_sd15):
    recorder = Recorder(worker)
    counts = []
    worker.queue_changed.connect(counts.append)
    running = worker.submit(GenerateJob(PARAMS.replace(steps=150), str(tiny_sd15)))
    waiting = [worker.submit(GenerateJob(PARAMS, str(tiny_sd15))) for _ in range(3)]
    qtbot.waitUntil(lambda: any(isinstance(m, Started) for m in recorder.of(running)), timeout=60000)
    assert worker.pending == 3
    assert worker.clear_queue() == 3
    worker.cancel_current()
    wait_terminal(qtbot, recorder, running)
    qtbot.waitUntil(lambda: all(recorder.terminal(j) for j in waiting), timeout=5000)
    for job_id in waiting:
        assert [type(m) for m in recorder.terminal(job_id)] == [Cancelled]
        assert not any(isinstance(m, Started) for m in recorder.of(job_id))
    assert counts[-1] == 0 and 3 in counts
