"""Steering from the Layers panel: mark a layer (or the visible canvas, or an image file) as a control layer,
reference or region, see what the ControlNet will read, switch a role off and on, or make it picture again.

Every change is one undoable edit of the document (SetLayerSteering, or AddLayer of a layer that already has
its role). The control preview is made on the model lane (a PreprocessJob), never on the GUI thread; a newer
request makes an older answer stale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction

from desktop.core.canvas_steering import control_pixels
from desktop.core.document import EditError, Layer
from desktop.core.edits import AddLayer, SetLayerSteering
from desktop.core.image_io import FILE_PATTERNS, ImageLoadError, load_image
from desktop.core.messages import Failed, GrayImage, PreprocessJob, PreprocessResult, RgbaImage
from desktop.core.steering import CANVAS_LAYER_NAME, ControlSpec, ReferenceSpec, RegionSpec, describe
from desktop.ui.canvas.generation_plan import generation_size
from desktop.ui import file_dialog
from desktop.ui.canvas.steering_dialog import SteeringDialog

KIND_OF = {ControlSpec: "control", ReferenceSpec: "reference", RegionSpec: "region"}
ROLE_WORDS = {"control": "Control layer", "reference": "Reference image", "region": "Region"}


def short_name(spec) -> str:
    """A few words for the history panel: the control type, the adapter, or the region's prompt."""
    if isinstance(spec, ControlSpec):
        from desktop.core.control_types import control_type

        return control_type(spec.type).label
    if isinstance(spec, ReferenceSpec):
        return spec.model
    return spec.prompt if len(spec.prompt) <= 30 else spec.prompt[:29] + "…"


class SteeringFeature(QObject):
    """Owns the Layers panel's Steer menu, the steering dialog and its control preview."""

    def __init__(self, window, workspace, client, model) -> None:
        super().__init__(window)
        self.window, self.workspace, self.client = window, workspace, client
        self.model = model  # the PromptModel: the selected image model and the steering models there are
        self.dialog: SteeringDialog | None = None
        self._target = None  # (layer id or None for a new layer, new Layer or None)
        self._preview_job: int | None = None
        self.ask_reference_path = lambda: file_dialog.open_file(  # the app's one non-native file dialog
            window, "Reference image", "", f"Images ({' '.join(FILE_PATTERNS)})")
        menu = workspace.layers.steer_menu
        self.actions: dict[str, QAction] = {}
        for key, text, slot in (
            ("control", "Use as &Control Layer…", lambda: self.mark("control")),
            ("canvas-control", "Use Visible &Canvas as Control…", self.mark_canvas),
            ("region", "Use as &Region (own prompt)…", lambda: self.mark("region")),
            ("region-selection", "New Region from &Selection or Mask…", self.region_from_selection),
            ("reference", "Use as Reference &Image…", lambda: self.mark("reference")),
            ("reference-file", "Add Reference Image from &File…", self.add_reference_file),
            (None, None, None),
            ("settings", "Steering &Settings…", self.edit),
            ("toggle", "Switch Steering &On/Off", self.toggle),
            ("clear", "Make &Picture Layer Again", self.clear),
        ):
            if key is None:
                menu.addSeparator()
                continue
            action = QAction(text, self)
            action.setObjectName(f"steer-{key}")
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions[key] = action
        window.menus["&Layer"].addSeparator()
        window.menus["&Layer"].addMenu(menu)
        menu.aboutToShow.connect(self._update_actions)

    # ------------------------------------------------------------------ what the menu does
    @property
    def document(self):
        return self.workspace.documents.document

    def _active(self) -> Layer | None:
        return self.document.active_layer if self.document is not None else None

    def _update_actions(self) -> None:
        layer = self._active()
        for key in ("control", "region", "reference"):
            self.actions[key].setEnabled(layer is not None)
        for key in ("settings", "toggle", "clear"):
            self.actions[key].setEnabled(layer is not None and layer.steering is not None)
        self.actions["canvas-control"].setEnabled(self.document is not None)
        self.actions["region-selection"].setEnabled(self.document is not None and (
            self.document.selection is not None or bool(self.document.mask.any())))
        self.actions["reference-file"].setEnabled(self.document is not None)

    def mark(self, kind: str) -> SteeringDialog | None:
        layer = self._active()
        if layer is None:
            self.window.show_error("Open or generate an image first, then pick the layer to steer with")
            return None
        spec = layer.steering if KIND_OF.get(type(layer.steering)) == kind else None
        return self._open(kind, layer.name, spec, (layer.id, None))

    def mark_canvas(self) -> SteeringDialog | None:
        document = self.document
        if document is None:
            self.window.show_error("Open or generate an image first: the visible canvas is what steers")
            return None
        layer = Layer.blank(f"Control: {CANVAS_LAYER_NAME.lower()}", document.width, document.height)
        layer.visible = False  # it holds no pixels: it reads the picture
        return self._open("control", CANVAS_LAYER_NAME, ControlSpec("canny", source="canvas"), (None, layer))

    def region_from_selection(self) -> SteeringDialog | None:
        """A region layer painted where the selection is (or, without one, where the inpaint mask is)."""
        document = self.document
        if document is None or (document.selection is None and not document.mask.any()):
            self.window.show_error("Select an area (M) or paint a mask (Q) first: the region is where it is")
            return None
        layer = Layer.blank("Region", document.width, document.height)
        if document.selection is not None:
            layer.pixels[document.selection.slices()] = (60, 190, 90, 160)
        else:
            layer.pixels[..., :3] = (60, 190, 90)
            layer.pixels[..., 3] = (document.mask.astype(np.uint16) * 160 // 255).astype(np.uint8)
            layer.pixels[..., 3][document.mask >= 128] = 160  # inside the mask: at least half opaque
        return self._open("region", layer.name, None, (None, layer))

    def add_reference_file(self) -> SteeringDialog | None:
        if self.document is None:
            self.window.show_error("Open or generate an image first: the reference goes on a layer of it")
            return None
        path = self.ask_reference_path()
        if not path:
            return None
        try:
            pixels = load_image(path)
        except ImageLoadError as error:
            self.window.show_error(str(error))
            return None
        layer = Layer(Path(path).stem, pixels)
        layer.visible = False  # a reference steers; it is not part of the picture
        return self._open("reference", layer.name, None, (None, layer))

    def edit(self) -> SteeringDialog | None:
        layer = self._active()
        if layer is None or layer.steering is None:
            self.window.show_error("Select a control, reference or region layer first")
            return None
        return self._open(KIND_OF[type(layer.steering)], layer.name, layer.steering, (layer.id, None))

    def toggle(self) -> bool:
        layer = self._active()
        if layer is None or layer.steering is None:
            self.window.show_error("Select a control, reference or region layer first")
            return False
        import dataclasses

        spec = dataclasses.replace(layer.steering, enabled=not layer.steering.enabled)
        word = "on" if spec.enabled else "off"
        return self._do(SetLayerSteering(layer.id, spec, label=f"{ROLE_WORDS[KIND_OF[type(spec)]]} {word}"))

    def clear(self) -> bool:
        layer = self._active()
        if layer is None or layer.steering is None:
            return False
        return self._do(SetLayerSteering(layer.id, None))

    @Slot(object)
    def restore(self, params) -> list[str]:
        """Reuse settings: mark the layers the image's controls, references and regions name again.

        A control that read the visible canvas comes back as a new canvas control layer. Returns (and says in
        the status bar) what could not be restored: no layer of that name on this canvas.
        """
        import dataclasses

        document = self.document
        specs = [*params.controls, *params.references, *params.regions]
        if not specs:
            return []
        if document is None:
            missing = [f"{ROLE_WORDS[KIND_OF[type(s)]].lower()} {s.layer!r}" for s in specs]
            self.window.show_error("Reuse settings: open the canvas the image was made on to get its "
                                   f"{', '.join(missing)} back")
            return missing
        missing = []
        by_name = {layer.name: layer for layer in document.layers}
        for spec in specs:
            kind = KIND_OF[type(spec)]
            role = dataclasses.replace(spec, layer="")
            if isinstance(spec, ControlSpec) and spec.source == "canvas":
                layer = Layer.blank(f"Control: {CANVAS_LAYER_NAME.lower()}", document.width, document.height)
                layer.visible, layer.steering = False, role
                self._do(AddLayer(layer, label=f"{ROLE_WORDS[kind]}: {short_name(role)}"))
            elif spec.layer in by_name:
                self._do(SetLayerSteering(by_name[spec.layer].id, role, label=f"{ROLE_WORDS[kind]}: {short_name(role)}"))
            else:
                missing.append(f"{ROLE_WORDS[kind].lower()} {spec.layer or short_name(spec)!r}")
        if missing:
            self.window.show_error(f"Reuse settings: no layer of that name on this canvas for the {', '.join(missing)}; "
                                   "mark a layer with Steer")
        else:
            self.window.show_status(f"Reuse settings: {len(specs)} steering layer(s) marked again")
        return missing

    # ------------------------------------------------------------------ the dialog
    def _open(self, kind: str, name: str, spec, target) -> SteeringDialog:
        if self.dialog is not None:
            self.dialog.close()
        entry = self.model.selected_model
        family = entry.family if entry is not None else ""
        self.dialog = SteeringDialog(kind, name, spec, list(self.model.steering_models), family, self.window)
        self._target = target
        self.dialog.preview_wanted.connect(self._on_preview_wanted)
        self.dialog.accepted.connect(self._on_accepted)
        self.dialog.show()
        if kind == "control":
            self.dialog._want_preview()  # at once, not after the first change
        return self.dialog

    @Slot()
    def _on_accepted(self) -> None:
        dialog, (layer_id, new_layer) = self.dialog, self._target
        spec = dialog.result_spec
        label = f"{ROLE_WORDS[dialog.kind]}: {short_name(spec)}"
        if new_layer is not None:
            new_layer.steering = spec
            self._do(AddLayer(new_layer, label=label))
        else:
            self._do(SetLayerSteering(layer_id, spec, label=label))
        self.window.show_status(describe(spec))

    def _do(self, command) -> bool:
        try:
            self.document.history.do(command)
        except EditError as error:
            self.window.show_error(str(error))
            return False
        return True

    @Slot(object)
    def _on_preview_wanted(self, spec: ControlSpec) -> None:
        document, dialog = self.document, self.dialog
        if document is None or dialog is None:
            return
        layer_id, new_layer = self._target
        layer = new_layer if new_layer is not None else document.layer(layer_id)
        rect = document.selection_or_canvas()
        try:
            width, height = generation_size(rect)
        except EditError as error:
            dialog.show_preview(None, str(error))
            return
        probe = Layer(layer.name, layer.pixels, layer.x, layer.y, steering=spec)
        pixels = np.ascontiguousarray(control_pixels(document, probe, rect))
        mask = document.mask[rect.slices()]
        job = PreprocessJob(spec, RgbaImage(pixels.shape[1], pixels.shape[0], pixels.tobytes()), width, height,
                            GrayImage(mask.shape[1], mask.shape[0], np.ascontiguousarray(mask).tobytes()),
                            tuple(self.model.steering_models), tag=layer.id)
        self._preview_job = job.job_id
        handle = self.client.submit(job)
        handle.message.connect(self._on_preview_message)

    @Slot(object)
    def _on_preview_message(self, message) -> None:
        if message.job_id != self._preview_job or self.dialog is None:
            return  # an older request, or the dialog is gone
        if isinstance(message, PreprocessResult):
            self.dialog.show_preview(message.image)
        elif isinstance(message, Failed):
            self.dialog.show_preview(None, message.message)
