"""Image > Finish with Full VAE (and the gallery's Finish button): a Fast mode draft, decoded by the full VAE.

Fast mode drafts are decoded with TAESD; the artist picks one (the gallery's selection, or else the
latest draft) and finishes it: the lane decodes the draft's saved latents with the model's own VAE
(desktop/worker/finish_jobs.py) and the final lands on the canvas as a new, undoable layer over the
draft it came from, and in the gallery. When the latents are gone (a picture that was never a TAESD
draft, a draft made before this feature, a file replaced), the artist is told so and offered a re-run
of the same job with the same seed and the full VAE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox

from desktop.core.canvas_inputs import add_result
from desktop.core.document import EditError
from desktop.core.draft import FINISHED_KEY, DraftError, FinishJob, draft_info, finishable, has_latents, rerun_params
from desktop.core.messages import Failed, ImageResult
from desktop.core.metadata import format_a1111_parameters

MENU = "&Image"
ACTION_TEXT = "Finish with &Full VAE"
SHORTCUT = "Ctrl+Shift+F"
KEEP_TARGETS = 64  # drafts of this session whose canvas area is remembered (a finish of an older one opens as a layer)
NO_DRAFT = ("No draft to finish: generate with Fast mode on (TAESD decode), or select a draft in the gallery, "
            "then Image > Finish with Full VAE")


class FinishFeature(QObject):
    """Turns the chosen draft into a FinishJob on the panel's controller and puts the final over the draft."""

    def __init__(self, window, controller, prompt, gallery=None, documents=None, parent: QObject | None = None):
        super().__init__(parent or window)
        self.window, self.controller, self.prompt = window, controller, prompt
        self.gallery, self.documents = gallery, documents
        self.draft_targets: dict = {}  # draft path -> the canvas area (CanvasJob) its job drew into
        self.last_draft: str | None = None
        self.rerun_box: QMessageBox | None = None  # the offer shown when a draft's latents are gone
        if MENU not in window.menus:
            window.add_menu(MENU)
        self.action = window.add_action(MENU, ACTION_TEXT, self.finish, SHORTCUT,
                                        "Finish the selected (or latest) Fast mode draft with the full VAE")
        self.action.setToolTip("Decode the draft's latents with the model's full VAE: sharper, no step runs again")
        controller.image_ready.connect(self._on_image_ready)
        if gallery is not None:
            gallery.dock.finish_draft.connect(self.finish)

    # ------------------------------------------------------------------ which draft
    def chosen_draft(self) -> str | None:
        """The gallery's selection when it is a draft, else the latest draft this session made."""
        selected = self.gallery.dock.current_path if self.gallery is not None else None
        if has_latents(selected):
            return selected
        return self.last_draft if has_latents(self.last_draft) else selected

    @Slot(object)
    def _on_image_ready(self, result: ImageResult) -> None:
        if not result.path or not has_latents(result.path):
            return
        self.last_draft = result.path
        target = self.controller.targets.get(result.job_id)  # still there: the job's Done comes after its images
        if target is not None:
            self.draft_targets[result.path] = target
            while len(self.draft_targets) > KEEP_TARGETS:  # the oldest first: a closed canvas is let go
                del self.draft_targets[next(iter(self.draft_targets))]

    # ------------------------------------------------------------------ finishing
    @Slot()
    def finish(self, path: str | None = None):
        """Queue the finish of `path` (or the chosen draft); returns its JobHandle, or None with the reason said."""
        path = path or self.chosen_draft()
        if not path:
            self.window.show_error(NO_DRAFT)
            return None
        try:
            info = finishable(path, self._moved_model(path))
        except DraftError as error:
            self.offer_rerun(path, str(error))
            return None
        job = FinishJob(str(path), info.params, c2pa_key_dir=self.controller.job_options.get("c2pa_key_dir", ""),
                        model_path=info.model_path)
        if not self.controller.client.accepts(job):  # a ComfyUI server has neither the latents nor this job
            self.window.show_error("Finishing a draft runs on this computer: choose This computer in "
                                   "Settings > Image Engine, then finish it again")
            return None
        handle = self.controller.submit_job(job)
        handle.message.connect(lambda message, draft=str(path): self._on_message(draft, message))
        self.window.show_status(f"Finishing {path} with the full VAE…")
        return handle

    def _moved_model(self, path: str) -> str:
        """The draft's model found by name among the installed ones when it is no longer where the draft says."""
        try:
            info = draft_info(path)
        except DraftError:
            return ""  # finishable says why
        if Path(info.model_path).exists():
            return ""
        entry = self.prompt.find_model(info.model_name)
        return entry.path if entry is not None else ""

    def _on_message(self, draft: str, message) -> None:
        if isinstance(message, ImageResult):
            self._place(draft, message)
        elif isinstance(message, Failed) and ("latents" in message.message or "same seed" in message.message):
            self.offer_rerun(draft, message.message)

    def _place(self, draft: str, result: ImageResult) -> None:
        """Over the draft's own area as a new layer when its canvas is still open; else as a layer (or the canvas)."""
        target = self.draft_targets.get(draft)
        documents = self.documents
        if documents is None:
            return
        if target is not None and target.document is documents.document:
            image = result.image
            rgb = np.frombuffer(image.data, np.uint8).reshape(image.height, image.width, 3)
            text = format_a1111_parameters(result.params, model_name=result.params.model)
            try:
                add_result(target.document, target.inputs, rgb, f"{result.params.prompt} (full VAE)", text)
            except EditError as error:
                self.window.show_error(f"The final could not be put on the canvas: {error}")
        elif result.path:
            documents.add_image_file(result.path)

    # ------------------------------------------------------------------ when the latents are gone
    def offer_rerun(self, path: str, reason: str) -> None:
        """Say why the draft cannot be finished, and offer its job again with the full VAE and the same seed."""
        from desktop.core.metadata import read_metadata

        info = read_metadata(path)
        params = info.to_params() if info.found else None
        entry = self.prompt.find_model(params.model) if params is not None else None
        if params is not None and FINISHED_KEY in dict(params.extra):
            self.window.show_error(f"{Path(path).name} is already a final, decoded with the full VAE")
            return
        self.window.show_error(reason)
        if params is None or entry is None or params.mode != "txt2img":
            why = "its settings cannot be read" if params is None else (
                f"its model {params.model!r} is not installed here" if entry is None else
                "it was made from a canvas area, which the file does not hold")
            self.window.show_error(f"{reason}. It cannot be re-run either: {why}")
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Finish with Full VAE",
                          f"{reason}.\n\nRe-run it with the same seed ({params.seed}) and steps, decoded with "
                          f"the full VAE?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self.window)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda _result, chosen=params, model=entry: self._on_rerun_answer(box, chosen, model))
        self.rerun_box = box
        box.open()

    def _on_rerun_answer(self, box: QMessageBox, params, entry) -> None:
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            handle = self.controller.submit(rerun_params(params), entry)
            handle.message.connect(lambda message: isinstance(message, ImageResult) and self._place("", message))
            self.window.show_status(f"Re-running seed {params.seed} with the full VAE…")
        self.rerun_box = None
