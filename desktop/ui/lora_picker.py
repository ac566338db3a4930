"""The prompt panel's LoRA list: pick LoRAs for the selected model's family, each with its weight.

What it holds becomes GenerationParams.loras. `<lora:name:0.8>` typed in the prompt works as well; the
lane merges both (the prompt's weight wins for a name in both) and refuses a LoRA of another family.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.core.lora_syntax import MAX_WEIGHT
from desktop.core.models import LORA, UNKNOWN, ModelEntry
from desktop.ui.theme import set_tone

PLACEHOLDER = "Add a LoRA…"


def fits(entry: ModelEntry, family: str) -> bool:
    """A LoRA whose family cannot be told from its file is offered too; the lane checks its shapes."""
    return entry.family in (family, UNKNOWN, "") or family in ("", UNKNOWN)


class LoraRow(QWidget):
    """One chosen LoRA: its name, its weight, and a button that takes it out."""

    removed = Signal(str)
    changed = Signal()

    def __init__(self, name: str, weight: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.label = QLabel(name)
        self.weight = QDoubleSpinBox(minimum=-MAX_WEIGHT, maximum=MAX_WEIGHT, singleStep=0.05, decimals=2, value=weight)
        self.weight.setToolTip("Strength: 1 as trained, 0.5 half as strong, negative to push away from it")
        self.weight.setKeyboardTracking(False)
        self.remove_button = QToolButton(text="✕", toolTip=f"Remove {name}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.weight)
        layout.addWidget(self.remove_button)
        self.remove_button.clicked.connect(lambda: self.removed.emit(self.name))
        self.weight.valueChanged.connect(self.changed)

    def set_warning(self, text: str) -> None:
        self.label.setToolTip(text)
        set_tone(self.label, "warning" if text else "")


TIP = "LoRAs in your models folders made for this model's family. Writing <lora:name:0.8> in the prompt works too"
NONE_TIP = "No LoRAs yet: put .safetensors LoRAs in the models folder's loras/ folder, then File > Rescan Models"


class LoraPicker(QWidget):
    """Chooses LoRAs and their weights from the discovered LoRA files that fit the selected model."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lora-picker")
        self.add_box = QComboBox()
        self.add_box.setObjectName("lora-add")
        self.add_box.setToolTip(TIP)
        self.rows: list[LoraRow] = []
        self._entries: list[ModelEntry] = []
        self._family = ""
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.add_box)
        layout.addLayout(self._rows_layout)
        self.add_box.activated.connect(self._on_add_chosen)
        self._fill()

    # ------------------------------------------------------------------ data in
    def set_entries(self, entries: list[ModelEntry], family: str = "") -> None:
        """Every discovered model; the LoRAs among them are offered."""
        self._entries = [e for e in entries if e.kind == LORA and e.usable]
        self.set_family(family)

    def set_family(self, family: str) -> None:
        """The selected model's family: only LoRAs made for it are offered; chosen ones that are not get a warning."""
        self._family = family
        self._fill()
        self._check_rows()

    def _fill(self) -> None:
        chosen = {row.name.lower() for row in self.rows}
        offered = [e for e in self._entries if fits(e, self._family) and e.name.lower() not in chosen]
        self.add_box.blockSignals(True)
        self.add_box.clear()
        if offered:
            self.add_box.addItem(PLACEHOLDER, None)
            for entry in offered:
                self.add_box.addItem(entry.name if entry.family in ("", UNKNOWN) else f"{entry.name}  ·  {entry.family}",
                                     entry.name)
        elif self._entries:
            self.add_box.addItem("No more LoRAs for this model" if chosen else
                                 f"No LoRA made for {self._family or 'this model'}", None)
        else:  # the box is narrow: a short text that fits, the where in the tooltip
            self.add_box.addItem("No LoRAs yet", None)
        self.add_box.setToolTip(TIP if offered or self._entries else NONE_TIP)
        self.add_box.setEnabled(bool(offered))
        self.add_box.blockSignals(False)

    def _check_rows(self) -> None:
        known = {e.name.lower(): e for e in self._entries}
        for row in self.rows:
            entry = known.get(row.name.lower())
            if entry is None:
                row.set_warning(f"{row.name} is not in your models folders: this generation will fail until it is")
            elif not fits(entry, self._family):
                row.set_warning(f"{row.name} was made for {entry.family} models; the selected model is {self._family}")
            else:
                row.set_warning("")

    # ------------------------------------------------------------------ choices
    def _on_add_chosen(self, index: int) -> None:
        name = self.add_box.itemData(index)
        if name:
            self.add(name)

    def add(self, name: str, weight: float = 1.0) -> None:
        if any(row.name.lower() == name.lower() for row in self.rows):
            return
        row = LoraRow(name, weight, self)
        row.removed.connect(self.remove)
        row.changed.connect(self.changed)
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        self._fill()
        self._check_rows()
        self.changed.emit()

    def remove(self, name: str) -> None:
        for row in [r for r in self.rows if r.name == name]:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        self._fill()
        self.changed.emit()

    def choices(self) -> tuple[tuple[str, float], ...]:
        return tuple((row.name, round(row.weight.value(), 2)) for row in self.rows)

    @property
    def value_changed(self):  # what desktop/ui/binding.py binds GenerationParams.loras to
        return self.changed

    def value(self) -> tuple[tuple[str, float], ...]:
        return self.choices()

    def set_value(self, loras) -> None:
        self.set_choices(loras)

    def set_choices(self, loras) -> None:
        """Restore exactly these LoRAs and weights (Reuse settings)."""
        for row in list(self.rows):
            self.remove(row.name)
        for name, weight in loras:
            self.add(str(name), float(weight))
