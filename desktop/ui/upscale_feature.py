"""Image > Upscale…: the canvas, a layer or the selection through an upscaler, as a new undoable layer.

The dialog offers the built-in Real-ESRGAN models and the artist's own files (models/upscale_models,
models/ESRGAN); the job runs on the model lane with progress per tile and Cancel; the result grows the
canvas by the factor and lands as a new top layer, one step in the history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QProgressDialog, QSpinBox, QWidget)

from desktop.core.document import EditError
from desktop.core.messages import Cancelled, Failed, Progress, RgbImage, UpscaleJob, UpscaleResult
from desktop.core.pickle_files import PICKLE_SUFFIXES, TrustList, looks_like_pickle
from desktop.core.upscale_edit import TARGETS, UpscaleLayer, check_upscale, upscale_source, with_alpha
from desktop.core.upscalers import (DEFAULT_TILE, MAX_TILE, MIN_TILE, SCALES, builtin,
                                    find_upscaler_file, upscaler_names)

TARGET_WORDS = {"canvas": "Whole canvas", "layer": "Active layer", "selection": "Selection"}


class UpscaleDialog(QDialog):
    """What to upscale, with which upscaler, by how much, in what tiles."""

    def __init__(self, names: list[str], has_selection: bool, parent: QWidget | None = None,
                 model_name: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Upscale")
        form = QFormLayout(self)
        self.target = QComboBox()
        for target in TARGETS:
            self.target.addItem(TARGET_WORDS[target], target)
        self.target.model().item(TARGETS.index("selection")).setEnabled(has_selection)
        self.model = QComboBox()
        for name in names:
            known = builtin(name)
            self.model.addItem(known.title if known else name, name)
        self.scale = QComboBox()
        for scale in SCALES:
            self.scale.addItem(f"{scale}x", scale)
        self.scale.setCurrentIndex(len(SCALES) - 1)
        self.tile = QSpinBox()
        self.tile.setRange(MIN_TILE, MAX_TILE)
        self.tile.setValue(DEFAULT_TILE)
        self.tile.setSuffix(" px")
        self.tile.setToolTip("Bigger tiles are a little faster and need more memory")
        form.addRow("Upscale", self.target)
        form.addRow("Upscaler", self.model)
        form.addRow("Scale", self.scale)
        form.addRow("Tile", self.tile)
        self.refine = QCheckBox(f"then refine in tiles with {model_name}" if model_name else "then refine in tiles")
        self.refine.setToolTip("img2img over the upscaled picture in overlapping 512 px tiles, with the prompt "
                               "panel's prompt and model: adds detail at 4K within memory")
        self.refine.setEnabled(bool(model_name))
        self.refine_strength = QDoubleSpinBox()
        self.refine_strength.setRange(0.05, 0.8)
        self.refine_strength.setSingleStep(0.05)
        self.refine_strength.setValue(0.3)
        self.refine_strength.setEnabled(False)
        self.refine.toggled.connect(self.refine_strength.setEnabled)
        form.addRow("Refine", self.refine)
        form.addRow("Refine strength", self.refine_strength)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def choice(self) -> tuple[str, str, int, int]:
        return self.target.currentData(), self.model.currentData(), self.scale.currentData(), self.tile.value()


class UpscaleFeature(QObject):
    """Connects Image > Upscale… to the model lane and the document's history."""

    def __init__(self, window, client, documents, models_dirs: Callable[[], list[Path]], cache_dir: Path,
                 config_dir: Path, ask_trust: Callable[[QWidget, str], bool] | None = None) -> None:
        """`client`: the model lane's EngineClient (the app registers UpscaleJob on its lane)."""
        super().__init__(window)
        from desktop.ui.models_feature import TRUST_FILE, ask_trust_pickle

        self.window, self.documents, self.models_dirs = window, documents, models_dirs
        self.cache_dir, self.trust_file = Path(cache_dir), str(Path(config_dir) / TRUST_FILE)
        self.ask_trust = ask_trust or ask_trust_pickle
        self.client = client
        self.dialog: UpscaleDialog | None = None
        self.progress: QProgressDialog | None = None
        self.handle = None
        self._placement: tuple[int, int, str] = (0, 0, "")
        self._alpha = np.full((1, 1), 255, np.uint8)  # the source's alpha, resized onto the result
        menu = "&Image"
        if menu not in window.menus:
            window.add_menu(menu)
        self.action = window.add_action(menu, "&Upscale…", self.open_dialog, "Ctrl+Alt+U",
                                        "Upscale the canvas, a layer or the selection 2x-4x with Real-ESRGAN")

    def open_dialog(self) -> None:
        document = self.documents.document
        if document is None:
            self.window.show_error("There is no picture to upscale: open or generate one first")
            return
        if self.handle is not None and not self.handle.done:
            self.window.show_error("An upscale is already running: wait for it, or cancel it")
            return
        entry = self.window.prompt_panel.model.selected_model
        self.dialog = UpscaleDialog(upscaler_names(self.models_dirs()), document.selection is not None, self.window,
                                    entry.name if entry is not None and entry.usable else "")
        self.dialog.accepted.connect(self._on_accepted)
        self.dialog.open()

    @Slot()
    def _on_accepted(self) -> None:
        target, name, scale, tile = self.dialog.choice()
        document = self.documents.document
        try:
            check_upscale(document, scale)
            pixels, x, y = upscale_source(document, target)
        except EditError as error:
            self.window.show_error(str(error))
            return
        trust_pickle = False
        path = None if builtin(name) else find_upscaler_file(name, self.models_dirs())
        if path is not None and (path.suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path)) \
                and not TrustList(self.trust_file).is_trusted(path):
            if not self.ask_trust(self.window, str(path)):
                self.window.show_status(f"Not upscaled: {path.name} is a pickle file you did not allow")
                return
            trust_pickle = True
        refine, model_path, family = None, "", ""
        if self.dialog.refine.isChecked():  # the prompt panel's prompt, model and sampler; img2img per tile
            from desktop.core.params import ParamError

            prompt = self.window.prompt_panel.model  # the PromptModel: what the panel shows
            try:
                refine = prompt.to_params(mode="img2img", strength=round(self.dialog.refine_strength.value(), 2),
                                          hires_scale=0.0, batch_size=1)
            except ParamError as error:
                self.window.show_error(str(error))
                return
            model_path, family = prompt.selected_model.path, prompt.selected_model.family
        self._alpha = pixels[..., 3].copy()
        rgb = np.ascontiguousarray(pixels[..., :3])
        job = UpscaleJob(RgbImage(rgb.shape[1], rgb.shape[0], rgb.tobytes()), name,
                         scale, tuple(str(p) for p in self.models_dirs()), str(self.cache_dir), tile,
                         self.trust_file, trust_pickle, target, refine=refine, model_path=model_path, family=family)
        self._placement = (x, y, self.dialog.model.currentText())
        self.handle = self.client.submit(job)
        self.handle.message.connect(self._on_message)
        self.progress = QProgressDialog(f"Upscaling {scale}x with {self._placement[2]}…", "Cancel", 0, 0, self.window)
        self.progress.setWindowTitle("Upscale")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.handle.cancel)
        self.progress.show()

    @Slot(object)
    def _on_message(self, message) -> None:
        if isinstance(message, Progress) and self.progress is not None:
            self.progress.setMaximum(message.total)
            self.progress.setValue(message.step)
            self.progress.setLabelText(f"Upscaling: {message.step} of {message.total}")
        elif isinstance(message, UpscaleResult):
            self._place(message)
        elif isinstance(message, (Failed, Cancelled)):
            if isinstance(message, Failed):
                self.window.show_error(f"Upscale failed: {message.message}")
            else:
                self.window.show_status("Upscale cancelled: nothing changed")
        if message.__class__.__name__ in ("Done", "Failed", "Cancelled") and self.progress is not None:
            self.progress.reset()
            self.progress.hide()

    def _place(self, result: UpscaleResult) -> None:
        document = self.documents.document
        if document is None:
            return
        pixels = with_alpha(np.frombuffer(result.image.data, np.uint8).reshape(result.image.height,
                                                                            result.image.width, 3), self._alpha)
        x, y, title = self._placement
        name = f"{title} {result.scale}x"
        try:
            document.history.do(UpscaleLayer(pixels, name, x, y, result.scale))
        except EditError as error:
            self.window.show_error(str(error))
            return
        self.window.show_status(f"Upscaled {result.scale}x with {result.upscaler} ({result.tiles} tiles, "
                                f"{result.seconds:.1f} s): new layer {name!r}")


