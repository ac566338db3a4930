"""The prompt panel's hires-fix controls: on/off, scale, strength, upscaler. Self-contained; the panel
adds it with one row and passes its params through `apply` (txt2img only, as in A1111)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QWidget

from desktop.core.params import GenerationParams
from desktop.core.upscalers import BUILTIN_UPSCALERS, LATENT, PLAIN_RESAMPLERS


class HiresFixBox(QWidget):
    """Generate at the set size, upscale by `scale` with `upscaler`, then img2img at `strength`."""

    value_changed = Signal(float)  # hires_scale as the prompt model holds it: the scale when on, 0 when off

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("On")
        self.enabled.setToolTip("Hires fix: generate at the set size, upscale, then refine at the larger size "
                                "(one job; the canvas gets the larger picture)")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.25, 4.0)
        self.scale.setSingleStep(0.25)
        self.scale.setValue(2.0)
        self.scale.setSuffix("x")
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.05, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(0.5)
        self.strength.setToolTip("How much the second pass may change the upscaled picture")
        self.upscaler = QComboBox()
        self.set_upscalers([m.name for m in BUILTIN_UPSCALERS])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.enabled, self.scale, self.strength, self.upscaler):
            layout.addWidget(widget)
        self.enabled.toggled.connect(self._on_toggled)
        self._on_toggled(False)
        self.enabled.toggled.connect(lambda _on: self.value_changed.emit(self.value()))
        self.scale.valueChanged.connect(lambda _scale: self.value_changed.emit(self.value()))

    # ------------------------------------------------------------------ the prompt model's hires fields
    def value(self) -> float:
        return round(self.scale.value(), 2) if self.enabled.isChecked() else 0.0

    def set_value(self, hires_scale: float) -> None:
        if hires_scale:
            self.scale.setValue(hires_scale)
        self.enabled.setChecked(bool(hires_scale))

    def bind_to(self, model) -> None:
        """hires_scale, hires_strength and hires_upscaler of a PromptModel, both ways (desktop/ui/binding.py)."""
        from desktop.ui.binding import bind

        model.changed.connect(lambda name, value: self._offer(value) if name == "hires_upscaler" else None)
        self._offer(model.hires_upscaler)
        bind(model, "hires_scale", self)
        bind(model, "hires_strength", self.strength)
        bind(model, "hires_upscaler", self.upscaler, show=lambda name: name or LATENT)

    def _on_toggled(self, on: bool) -> None:
        for widget in (self.scale, self.strength, self.upscaler):
            widget.setEnabled(on)

    def set_upscalers(self, names: list[str]) -> None:
        """Latent and the plain resamplers first, then the built-ins and the user's upscalers."""
        current = self.upscaler.currentText() or LATENT
        self.upscaler.blockSignals(True)  # the choice stays what it was (the prompt model holds it)
        self.upscaler.clear()
        for name in [LATENT, *PLAIN_RESAMPLERS[:1], *names]:
            self.upscaler.addItem(name, name)  # data = the name: what the prompt model holds
        self._offer(current)
        self.upscaler.setCurrentIndex(max(0, self.upscaler.findText(current)))
        self.upscaler.blockSignals(False)

    def _offer(self, name: str) -> None:
        """A name restored from an image that is not in the list (yet): listed, so the job says if it is missing."""
        if name and self.upscaler.findText(name) < 0:
            self.upscaler.addItem(name, name)

    def apply(self, params: GenerationParams) -> GenerationParams:
        """params with the hires fields when on and in txt2img; ParamError (from params) when too large."""
        if not self.enabled.isChecked() or params.mode != "txt2img":
            return params.replace(hires_scale=0.0)
        return params.replace(hires_scale=round(self.scale.value(), 2), hires_strength=round(self.strength.value(), 2),
                              hires_upscaler=self.upscaler.currentText())

    def set_from(self, params: GenerationParams) -> None:
        self.enabled.setChecked(bool(params.hires_scale))
        if params.hires_scale:
            self.scale.setValue(params.hires_scale)
            self.strength.setValue(params.hires_strength)
            if self.upscaler.findText(params.hires_upscaler) < 0:
                self.upscaler.addItem(params.hires_upscaler)
            self.upscaler.setCurrentText(params.hires_upscaler)
