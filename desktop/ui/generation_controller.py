"""Turns the prompt model into generation jobs on an engine client and shows what each job's handle reports.

With a canvas (a DocumentController), every job reads its area of the open document (the selection, or
the whole canvas) and every result arrives there as a new, undoable layer. Each job is followed through
its own JobHandle: no other feature's messages reach this controller, and Cancel, Esc and Clear queue
touch only the panel's own jobs (a chat reply on the same lane goes on).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal, Slot

from desktop.core.canvas_inputs import add_result, preview_pixels, result_alpha
from desktop.core.document import EditError
from desktop.core.messages import (
    Cancelled,
    Done,
    Failed,
    GenerateJob,
    ImageResult,
    LoadModelJob,
    Loading,
    Preview,
    Progress,
    Started,
)
from desktop.core.metadata import format_a1111_parameters
from desktop.core.params import GenerationParams, random_seed
from desktop.ui.canvas.generation_plan import NO_CANVAS, CanvasJob, prepare, steering
from desktop.ui.prompt_panel import seeds_text
from desktop.ui.qimage import rgba_to_qimage, to_qimage

WAITING = "Waiting for the model lane (a chat reply or another job is running)…"
STARTING = "Starting…"


class GenerationController(QObject):
    """Owns the generate/cancel/queue flow of the prompt panel; one JobHandle per job it submitted."""

    image_ready = Signal(object)  # ImageResult
    status = Signal(str)
    error = Signal(str)
    idle_changed = Signal(bool)
    finished = Signal(float)  # seconds a finished generation took
    job_message = Signal(object)  # every message of this controller's jobs, for widgets that show one (Fast mode)

    def __init__(self, client, model, panel, canvas, documents=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client, self.model, self.panel, self.canvas = client, model, panel, canvas
        self.documents = documents  # DocumentController: results become layers of its document
        self.handles: dict = {}  # job id -> JobHandle, for every job of ours not yet ended (in submit order)
        self.targets: dict[int, CanvasJob] = {}
        self._preview_alpha: dict[int, np.ndarray] = {}
        self.running = None  # the JobHandle whose job the lane runs now, if it is ours
        self.results: list[ImageResult] = []
        self.job_options: dict = {}  # GenerateJob fields from the Settings menu (fast_decode, c2pa_key_dir)
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.cancel)
        panel.clear_queue_requested.connect(self.clear_queue)

    @property
    def idle(self) -> bool:
        return not self.handles

    # ------------------------------------------------------------------ asking for work
    @Slot()
    def generate(self):
        """The Generate button and Ctrl+Enter: a job from the model, or the reason why not in the panel."""
        try:
            handle = self.request()
        except ValueError as error:  # ParamError, EditError: say why, queue nothing
            self.error.emit(str(error))
            return None
        self.panel.show_notice("")  # an accepted press clears what an earlier one said
        return handle

    def request(self, **overrides):
        """Queue one generation of the model's parameters (with `overrides`, e.g. /imagine's prompt and mode).

        Unlocked, the seed is a fresh one: the model shows it as soon as the job is queued, and the job uses
        exactly it (a batch of N uses seed ... seed+N-1). Raises ValueError with the reason when it cannot run.
        """
        fresh = not self.model.seed_locked and "seed" not in overrides
        if fresh:
            overrides["seed"] = random_seed()
        params = self.model.to_params(**overrides)
        entry = self.model.selected_model
        job = self.make_job(params, entry)
        handle = self._submit(job)
        if fresh:
            self.model.seed = params.seed
        self.status.emit(f"Queued: {seeds_text(job.params.seed, job.params.batch_size)}")
        return handle

    def submit(self, params: GenerationParams, entry, keep: bool = True):
        """Queue exactly these params with this model, outside the canvas (Reproduce); returns the JobHandle.
        keep=False makes the image without saving it (a Reproduce check: no duplicate in the gallery)."""
        job = GenerateJob(params=params, model_path=entry.path, family=entry.family, addons=self.model.addons,
                          keep=keep, **self.job_options)
        return self._submit(job)

    def submit_job(self, job):
        """Queue another kind of image job (Finish with Full VAE) as the panel's own: its progress, Loading
        text, Esc and Cancel work as for a generation. Returns the JobHandle."""
        return self._submit(job)

    def preload(self, entry):
        """Load the chosen model before the first Generate; the panel shows it loading, Cancel stops it."""
        return self._submit(LoadModelJob(entry.path, entry.family, width=self.model.width, height=self.model.height))

    def make_job(self, params: GenerationParams, entry) -> GenerateJob:
        addons = self.model.addons  # LoRA/VAE files, for the lane to resolve names in params and prompt
        if params.hires_scale and params.mode != "txt2img":  # the hires fix is for text to image, as in A1111
            params = params.replace(hires_scale=0.0)
        # the canvas's steering layers steer (read below); specs Reuse settings put in the model are only a record
        params = params.replace(controls=(), references=(), regions=())
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
        params, pixels = steering(document, target, params)  # control, reference and region layers
        job = GenerateJob(params=params, model_path=entry.path, family=entry.family, init_image=init, mask=mask,
                          addons=addons + self.model.steering_models, **self.job_options, **pixels)
        self.targets[job.job_id] = target
        return job

    def _submit(self, job):
        handle = self.client.submit(job)
        was_idle = self.idle
        self.handles[job.job_id] = handle
        handle.message.connect(self._on_message)
        self._show_queue()
        if was_idle:
            self.idle_changed.emit(False)
        return handle

    @Slot()
    def cancel(self) -> None:
        """Esc and Cancel: stop the panel's running job (a generation, or a model loading)."""
        if self.running is not None and self.running.cancel():
            self.panel.set_busy_text("Cancelling…")

    @Slot()
    def clear_queue(self) -> None:
        for handle in self.waiting():
            handle.cancel()

    def waiting(self) -> list:
        """The generations queued and not started (a model load waiting is no image in the queue)."""
        return [h for h in self.handles.values()
                if h is not self.running and not h.received and isinstance(h.job, GenerateJob)]

    def _show_queue(self) -> None:
        self.panel.set_queue(len(self.waiting()))
        if self.running is None and self.handles:
            # another feature's job runs first (a chat reply), or ours starts in a moment
            ahead = self.client.running_job is not None and self.client.running_job.job_id not in self.handles
            self.panel.set_busy_text(WAITING if ahead else STARTING)

    # ------------------------------------------------------------------ what a job's handle reports
    @Slot(object)
    def _on_message(self, message) -> None:
        handle = self.handles.get(getattr(message, "job_id", None))
        if handle is None:
            return
        self.job_message.emit(message)
        if isinstance(message, Started):
            self.running = handle
            self.panel.set_running(True)
            self.panel.set_busy_text(STARTING)
            self._show_queue()
        elif isinstance(message, Loading):
            if handle is self.running:
                self.panel.set_busy_text(message.text)
        elif isinstance(message, Progress):
            if handle is self.running and message.step > 0:
                self.panel.set_progress(message.step, message.total, message.eta_s)
        elif isinstance(message, Preview):
            if handle is self.running:
                self.show_preview(message)
        elif isinstance(message, ImageResult):
            self.results.append(message)
            self.show_result(message)
            self.image_ready.emit(message)
            if message.save_error:
                self.error.emit(message.save_error)
        elif isinstance(message, (Done, Cancelled, Failed)):
            self._finish(handle, message)

    def show_preview(self, message: Preview) -> None:
        target = self.targets.get(message.job_id)
        if target is None:
            self.canvas.set_preview(to_qimage(message.image), None)
            return
        if self.documents is not None and target.document is not self.documents.document:
            return  # its canvas was closed: nothing to draw into
        inputs = target.inputs
        rect = inputs.rect
        where = QRectF(rect.x, rect.y, rect.width, rect.height)
        if inputs.mask is None:  # the whole area changes: the small preview, stretched
            self.canvas.set_preview(to_qimage(message.image), where)
            return
        alpha = self._preview_alpha.get(message.job_id)
        if alpha is None:  # the area that will change: computed once per job
            alpha = self._preview_alpha[message.job_id] = result_alpha(
                inputs.mode, inputs.mask, (inputs.rect.height, inputs.rect.width))
        image = message.image
        rgb = np.frombuffer(image.data, np.uint8).reshape(image.height, image.width, 3)
        # inpaint, outpaint: drawn only where the result will change, at the area's size
        self.canvas.set_preview(rgba_to_qimage(preview_pixels(inputs, rgb, alpha)), where)

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

    def _finish(self, handle, message) -> None:
        job = handle.job
        self.handles.pop(message.job_id, None)
        self.targets.pop(message.job_id, None)
        self._preview_alpha.pop(message.job_id, None)
        was_running = handle is self.running
        if was_running:
            self.running = None
            self.canvas.clear_preview()
        if was_running or (self.running is None and not self.handles):
            self.panel.set_running(False)
        self._show_queue()
        loading = isinstance(job, LoadModelJob)
        if isinstance(message, Done) and not loading:
            self.status.emit(f"Done in {message.seconds:.1f} s")
            self.finished.emit(message.seconds)
        elif isinstance(message, Cancelled):
            self.status.emit(f"{'Model loading' if loading else 'Generation'} cancelled ({message.reason})")
        elif isinstance(message, Failed) and loading:  # a checkpoint of another architecture, a damaged file
            self.error.emit(f"Could not load the model: {message.message}")
        elif isinstance(message, Failed):
            what = job.params.prompt[:40]
            label = getattr(job, "label", "Generation")  # another kind of image job says what it was (a finish)
            self.error.emit(f"{label} failed{f' ({what})' if what else ''}: {message.message}")
        if self.idle:
            self.idle_changed.emit(True)
