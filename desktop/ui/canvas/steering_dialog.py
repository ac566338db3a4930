"""The settings of a layer's steering role: a control layer (type, ControlNet, weight, range, preview), a
reference image (IP-Adapter, weight, style/face) or a region (its prompt). It edits a spec, never the layer:
the steering feature turns the accepted spec into one undoable edit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QWidget,
)

from desktop.core.control_types import CONTROL_TYPES, control_type
from desktop.core.models import CONTROLNET, IP_ADAPTER, UNKNOWN, ModelEntry
from desktop.core.steering import (
    MAX_CONTROL_WEIGHT,
    MAX_REFERENCE_WEIGHT,
    REFERENCE_MODES,
    ControlSpec,
    ReferenceSpec,
    RegionSpec,
    SteeringError,
)
from desktop.ui.qimage import to_qimage

KINDS = {"control": "Control layer", "reference": "Reference image", "region": "Regional prompt"}
MODE_LABELS = {"full": "Everything (content and style)", "style": "Style only", "face": "Face (a face adapter)"}
PREVIEW_SIDE = 192


def _spin(low: float, high: float, value: float, step: float = 0.05) -> QDoubleSpinBox:
    box = QDoubleSpinBox(minimum=low, maximum=high, value=value, singleStep=step, decimals=2)
    return box


class SteeringDialog(QDialog):
    """Edits one spec for one layer; `preview_wanted` asks for the control picture whenever it may change."""

    preview_wanted = Signal(object)  # ControlSpec

    def __init__(self, kind: str, layer_name: str, spec, models: list[ModelEntry], family: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName(f"steering-dialog-{kind}")
        self.setWindowTitle(f"{KINDS[kind]}: {layer_name}")
        self.form = QFormLayout(self)
        self.enabled = QCheckBox("On (switch off to keep the settings without using them)")
        self.enabled.setChecked(spec.enabled if spec is not None else True)
        self.note = QLabel(wordWrap=True)
        self.note.setObjectName("steering-note")
        getattr(self, f"_build_{kind}")(spec, models, family)
        self.form.addRow(self.enabled)
        self.form.addRow(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)
        self.result_spec = None

    # ------------------------------------------------------------------ the three kinds
    def _model_box(self, models: list[ModelEntry], kind: str, family: str, chosen: str, words=()) -> QComboBox:
        box = QComboBox()
        box.setObjectName("steering-model")
        fitting = [e for e in models if e.kind == kind and e.usable and e.family in (UNKNOWN, family)]
        # the models named for this type first; face adapters after the general ones (they are for the face variant)
        fitting.sort(key=lambda e: (not any(w in e.name.lower() for w in words), "face" in e.name.lower(),
                                    e.name.lower()))
        box.addItem("(choose a model)" if fitting else "(none installed for this model)", "")
        for entry in fitting:
            where = "on the server" if entry.source.startswith("ComfyUI") else entry.family  # image_engine.py
            box.addItem(f"{entry.name}  ·  {where}", entry.name)
        if chosen and box.findData(chosen) < 0:
            box.addItem(f"{chosen}  ·  not installed", chosen)
        box.setCurrentIndex(max(0, box.findData(chosen)) if chosen else (1 if fitting else 0))
        return box

    def _build_control(self, spec: ControlSpec | None, models: list[ModelEntry], family: str) -> None:
        self.models, self.family = models, family
        self.type = QComboBox()
        self.type.setObjectName("control-type")
        for row in CONTROL_TYPES:
            self.type.addItem(row.label, row.name)
        self.type.setCurrentIndex(max(0, self.type.findData(spec.type if spec else "scribble")))
        row = control_type(self.type.currentData())
        self.model = self._model_box(models, CONTROLNET, family, spec.model if spec else "", row.model_words)
        self.weight = _spin(0.0, MAX_CONTROL_WEIGHT, spec.weight if spec else 1.0)
        self.start = _spin(0.0, 1.0, spec.start if spec else 0.0)
        self.end = _spin(0.0, 1.0, spec.end if spec else 1.0)
        self.preprocess = QCheckBox("Preprocess the layer (off: it already is the map the model reads)")
        self.preprocess.setChecked(spec.preprocess if spec else True)
        self.source = spec.source if spec else "layer"
        self.hint = QLabel(wordWrap=True)
        self.preview = QLabel("…")
        self.preview.setObjectName("control-preview")
        self.preview.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #202020; color: #ccc;")
        for label, widget in (("Type", self.type), ("ControlNet", self.model), ("Weight", self.weight),
                              ("Start (of the steps)", self.start), ("End", self.end)):
            self.form.addRow(label, widget)
        self.form.addRow(self.preprocess)
        self.form.addRow(self.hint)
        self.form.addRow("What the model sees", self.preview)
        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self._want_preview)
        self.type.currentIndexChanged.connect(self._on_type)
        self.preprocess.toggled.connect(lambda _on: self._preview_timer.start())
        self._on_type()

    def _on_type(self, _index: int = 0) -> None:
        row = control_type(self.type.currentData())
        self.hint.setText(row.hint or row.unsupported)
        chosen = self.model.currentData()
        words = row.model_words
        if not chosen or not any(w in str(chosen).lower() for w in words):  # offer the model that fits the type
            for index in range(1, self.model.count()):
                if any(w in str(self.model.itemData(index)).lower() for w in words):
                    self.model.setCurrentIndex(index)
                    break
        self._preview_timer.start()

    def _want_preview(self) -> None:
        self.preview.setText("working…")
        try:
            self.preview_wanted.emit(self._control_spec())
        except SteeringError as error:
            self.show_preview(None, str(error))

    def show_preview(self, image, error: str = "") -> None:
        """The picture the ControlNet will read (an RgbImage), or why there is none."""
        if image is None:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("no preview")
            self.note.setText(error)
            return
        pixmap = QPixmap.fromImage(to_qimage(image)).scaled(PREVIEW_SIDE, PREVIEW_SIDE,
                                                          Qt.AspectRatioMode.KeepAspectRatio,
                                                          Qt.TransformationMode.SmoothTransformation)
        self.preview.setPixmap(pixmap)
        self.note.setText("")

    def _build_reference(self, spec: ReferenceSpec | None, models: list[ModelEntry], family: str) -> None:
        self.model = self._model_box(models, IP_ADAPTER, family, spec.model if spec else "")
        self.weight = _spin(0.0, MAX_REFERENCE_WEIGHT, spec.weight if spec else 0.6)
        self.mode = QComboBox()
        self.mode.setObjectName("reference-mode")
        for mode in REFERENCE_MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.mode.setCurrentIndex(max(0, self.mode.findData(spec.mode if spec else "full")))
        for label, widget in (("IP-Adapter", self.model), ("Weight", self.weight), ("Use", self.mode)):
            self.form.addRow(label, widget)

    def _build_region(self, spec: RegionSpec | None, models: list[ModelEntry], family: str) -> None:
        self.prompt = QPlainTextEdit(spec.prompt if spec else "")
        self.prompt.setObjectName("region-prompt")
        self.prompt.setPlaceholderText("What this area shows; the main prompt covers the rest")
        self.prompt.setMaximumHeight(90)
        self.form.addRow("Prompt", self.prompt)
        self.form.addRow(QLabel("The region is where this layer is painted.", wordWrap=True))

    # ------------------------------------------------------------------ the result
    def _control_spec(self) -> ControlSpec:
        return ControlSpec(self.type.currentData(), self.model.currentData() or "", self.weight.value(),
                           self.start.value(), self.end.value(), enabled=self.enabled.isChecked(),
                           preprocess=self.preprocess.isChecked(), source=self.source)

    def spec(self):
        """The spec the dialog shows now; SteeringError (with what to change) when it is not valid."""
        if self.kind == "control":
            return self._control_spec()
        if self.kind == "reference":
            return ReferenceSpec(self.model.currentData() or "", self.weight.value(), self.mode.currentData(),
                                 enabled=self.enabled.isChecked())
        prompt = self.prompt.toPlainText().strip()
        if not prompt:
            raise SteeringError("type the region's prompt: what this area shows")
        return RegionSpec(prompt, enabled=self.enabled.isChecked())

    def _on_ok(self) -> None:
        try:
            self.result_spec = self.spec()
        except SteeringError as error:
            self.note.setText(str(error))
            return
        self.accept()
