"""The Fast mode switch in the prompt panel, and the line under it that says what Fast mode chose.

Checked, every Generate carries `fast_mode=True`; the lane picks the few-step recipe for the model,
the LoRAs and TAESD the user has and the device (desktop/core/fast_mode.py) and says what it chose
(FastModeChosen), which this line shows. Before a generation the line previews the choice for the
selected model with the same function, assuming the device the last load reported.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from desktop.core.fast_mode import FastModeChosen, choose
from desktop.core.messages import Status
from desktop.core.params import GenerationParams
from desktop.ui.theme import set_tone

OFF_TEXT = "Off: the steps, guidance and sampler are used as set"
TIP = ("Few-step generation: Turbo/SDXS/Lightning models, or an LCM / Hyper-SD LoRA on an ordinary SD 1.5 or "
       "SDXL model (Models window > Download), TAESD decoding and feature reuse on a CPU")


class FastModeSwitch(QWidget):
    """One check box (the switch) and one line (what it chose, or will choose, for the selected model)."""

    toggled = Signal(bool)

    def __init__(self, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.device = "cpu"  # until a load says otherwise (Status.device: "CPU, …" / "CUDA …")
        self.check = QCheckBox("Fast mode", toolTip=TIP)
        self.check.setObjectName("fast-mode")
        self.line = QLabel(OFF_TEXT, wordWrap=True)
        self.line.setObjectName("fast-mode-line")
        set_tone(self.line, "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.check)
        layout.addWidget(self.line)
        self.check.toggled.connect(self._on_toggled)

    @property
    def on(self) -> bool:
        return self.check.isChecked()

    def _on_toggled(self, on: bool) -> None:
        self.toggled.emit(on)  # the prompt model holds the choice (bound in the panel); it refreshes the line

    def refresh(self) -> None:
        """Say what Fast mode would choose now for the selected model (or that it is off)."""
        if not self.on:
            self.line.setText(OFF_TEXT)
            return
        model = self.panel.model
        entry = model.selected_model
        if entry is None:
            self.line.setText("On: choose a model to see its recipe")
            return
        choice = choose(GenerationParams(fast_mode=True, steps=model.steps), entry.path, entry.family, model.addons,
                        self.device)
        self.line.setText(choice.sentence.removeprefix("Fast mode: "))

    @Slot(object)
    def on_message(self, message) -> None:
        """A generation job's messages (GenerationController.job_message) and the client's status."""
        if isinstance(message, FastModeChosen):
            self.line.setText(message.text.removeprefix("Fast mode: "))  # what the lane chose: the last word
        elif isinstance(message, Status) and message.device:
            self.device = "cpu" if message.device.lower().startswith("cpu") else "cuda"
