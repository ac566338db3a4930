"""Connects the prompt panel and the canvas to the worker: submits jobs, shows what comes back.

With a canvas (a DocumentController), every job reads its area of the open document (the
selection, or the whole canvas) and every result arrives there as a new, undoable layer.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal, Slot

from desktop.core.canvas_inputs import add_result
from desktop.core.document import EditError
from desktop.core.metadata import format_a1111_parameters

from desktop.core.messages import (
    Cancelled,
    Done,
    Failed,
    GenerateJob,
    ImageResult,
    Preview,
    Progress,
    Started,
    Status,
)
from desktop.core.params import GenerationParams
from desktop.ui.canvas.generation_plan import NO_CANVAS, CanvasJob, prepare
from desktop.ui.qimage import to_qimage


class GenerationController(QObject):
    """Owns the generate/cancel/queue flow; receives worker messages on the GUI thread."""

    image_ready = Signal(object)  # ImageResult
    status = Signal(str)
    error = Signal(str)
    idle_changed = Signal(bool)
    finished = Signal(float)  # seconds a finished generation took

    def __init__(self, worker, panel, canvas, documents=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.panel = panel
        self.canvas = canvas
        self.documents = documents  # DocumentController: results become layers of its document
        self.targets: dict[int, CanvasJob] = {}
        self.running_job: int | None = None
        self.submitted: dict[int, GenerateJob] = {}
        self.results: list[ImageResult] = []
        self.job_options: dict = {}  # GenerateJob fields from the Settings menu (fast_decode, c2pa_key_dir)
        # the worker emits from its thread; a method of this GUI-thread object runs on the GUI thread
        worker.message.connect(self._on_message)
        worker.queue_changed.connect(self._on_queue_changed)
        self._lanes = [worker]
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.cancel)
        panel.clear_queue_requested.connect(self.clear_queue)

    def use_lane(self, worker) -> None:
        """Send the next jobs to this lane (this computer's, or a ComfyUI client's); every lane used stays heard."""
        if worker is self.worker:
            return
        if worker not in self._lanes:
            self._lanes.append(worker)
            worker.message.connect(self._on_message)
            worker.queue_changed.connect(self._on_queue_changed)
        self.worker = worker

    @property
    def idle(self) -> bool:
        return self.running_job is None and not self.submitted

    @Slot(object)
    def generate(self, params: GenerationParams) -> int | None:
        entry = self.panel.selected_model()
        if entry is None:
            self.error.emit("choose a model first")
            return None
        try:
            job = self.make_job(params, entry)
        except ValueError as error:  # EditError or ParamError: the canvas cannot run this now; say why
            self.error.emit(str(error))
            return None
        self.submitted[job.job_id] = job
        self.worker.submit(job)
        self.idle_changed.emit(False)
        return job.job_id

    def submit(self, params: GenerationParams, entry, keep: bool = True) -> int:
        """Queue exactly these params with this model, outside the canvas (Reproduce, /imagine-like calls);
        keep=False makes the image without saving it (a Reproduce check)."""
        job = GenerateJob(params=params, model_path=entry.path, family=entry.family,
                          addons=self.panel.addon_entries(), keep=keep, **self.job_options)
        self.submitted[job.job_id] = job
        self.worker.submit(job)
        self.idle_changed.emit(False)
        return job.job_id

    def make_job(self, params: GenerationParams, entry) -> GenerateJob:
        addons = self.panel.addon_entries()  # LoRA/VAE files, for the lane to resolve names in params and prompt
        if self.documents is None:
            return GenerateJob(params=params, model_path=entry.path, family=entry.family, addons=addons,
                               **self.job_options)
        document = self.documents.document
        if document is None:
            if params.mode != "txt2img":
                raise EditError(NO_CANVAS)
            from desktop.core.params import hires_size  # hires fix: the canvas is made at the final size

            document = self.documents.ensure_document(*(hires_size(params) if params.hires_scale else
                                                        (params.width, params.height)))
        target, params, init, mask = prepare(document, params)
        job = GenerateJob(params=params, model_path=entry.path, family=entry.family, init_image=init, mask=mask,
                          addons=addons, **self.job_options)
        self.targets[job.job_id] = target
        return job

    @Slot()
    def cancel(self) -> None:
        self.worker.cancel_current()

    @Slot()
    def clear_queue(self) -> None:
        self.worker.clear_queue()

    @Slot(int)
    def _on_queue_changed(self, waiting: int) -> None:
        self.panel.set_queue(waiting)

    @Slot(object)
    def _on_message(self, message) -> None:
        job_id = getattr(message, "job_id", None)
        if isinstance(message, Status):
            self.status.emit(message.text)
            if self.running_job is not None and message.text.startswith("Loading"):
                self.panel.set_busy_text(message.text)
            return
        if job_id not in self.submitted:
            return  # another feature's job (chat, downloads)
        if isinstance(message, Started):
            self.running_job = job_id
            self.panel.set_running(True)
        elif isinstance(message, Progress):
            if job_id == self.running_job and message.step > 0:
                self.panel.set_progress(message.step, message.total, message.eta_s)
        elif isinstance(message, Preview):
            if job_id == self.running_job:  # a late preview of an older job is dropped
                self.show_preview(message)
        elif isinstance(message, ImageResult):
            self.results.append(message)
            self.show_result(message)
            self.image_ready.emit(message)
            if message.save_error:
                self.error.emit(message.save_error)
        elif isinstance(message, (Done, Cancelled, Failed)):
            self._finish(message)

    def show_preview(self, message: Preview) -> None:
        target = self.targets.get(message.job_id)
        if self.documents is not None and target is not None and target.document is not self.documents.document:
            return  # its canvas was closed: nothing to draw into
        self.canvas.set_preview(to_qimage(message.image), self.preview_target(message))

    def preview_target(self, message: Preview) -> QRectF | None:
        target = self.targets.get(message.job_id)
        if target is None:
            return None
        rect = target.inputs.rect
        return QRectF(rect.x, rect.y, rect.width, rect.height)

    def show_result(self, message: ImageResult) -> None:
        """One result, one new layer named after its prompt, over the area the job read."""
        target = self.targets.get(message.job_id)
        if target is None:
            return
        if self.documents is None or target.document is not self.documents.document:
            where = f" as {message.path}" if message.path else ""
            self.status.emit(f"A result for a canvas that is no longer open was saved{where}")
            return
        image = message.image
        rgb = np.frombuffer(image.data, np.uint8).reshape(image.height, image.width, 3)
        parameters = format_a1111_parameters(message.params, model_name=message.params.model)
        try:
            add_result(target.document, target.inputs, rgb, message.params.prompt, parameters)
        except EditError as error:
            self.error.emit(f"The result could not be put on the canvas: {error}")

    def _finish(self, message) -> None:
        job = self.submitted.pop(message.job_id, None)
        self.targets.pop(message.job_id, None)
        if message.job_id == self.running_job:
            self.running_job = None
            self.panel.set_running(False)
            self.canvas.clear_preview()
        if isinstance(message, Done):
            self.status.emit(f"Done in {message.seconds:.1f} s")
            self.finished.emit(message.seconds)
        elif isinstance(message, Cancelled):
            self.status.emit(f"Cancelled ({message.reason})")
        elif isinstance(message, Failed):
            what = job.params.prompt[:40] if job else ""
            self.error.emit(f"Generation failed{f' ({what})' if what else ''}: {message.message}")
        if self.idle:
            self.idle_changed.emit(True)
