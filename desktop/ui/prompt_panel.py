"""The prompt panel: prompt, negative prompt, model, size, steps, guidance, sampler, seed, Generate."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.models import LORA, TAESD, VAE, ModelEntry
from desktop.core.params import (
    MODES,
    MAX_GUIDANCE,
    MAX_SIDE,
    MAX_STEPS,
    MIN_SIDE,
    SCHEDULERS,
    SIZE_STEP,
    GenerationParams,
    ParamError,
    nearest_valid_side,
    parse_number,
    random_seed,
)
from desktop.ui.fast_mode_switch import FastModeSwitch
from desktop.ui.lora_picker import LoraPicker


MODE_LABELS = {"txt2img": "Text to image", "img2img": "Image to image", "inpaint": "Inpaint", "outpaint": "Outpaint"}


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d} left" if seconds >= 60 else f"{seconds} s left"


class PromptPanel(QWidget):
    """Collects generation settings and turns them into validated GenerationParams."""

    generate_requested = Signal(object)  # GenerationParams
    enhance_requested = Signal()  # the chat feature rewrites the prompt (desktop/ui/chat/enhance.py)
    cancel_requested = Signal()
    clear_queue_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt-panel")
        self.prompt = QPlainTextEdit(placeholderText="Describe the image…")
        self.prompt.setObjectName("prompt")
        self.original_prompt = ""  # the prompt before an accepted Enhance; both go into the image's metadata
        self.prompt.textChanged.connect(self._on_prompt_changed)
        self.enhance_button = QToolButton(text="Enhance", toolTip="Let the chat model rewrite the prompt for "
                                          "this model's family; you see the change before it is used")
        self.enhance_button.setObjectName("enhance")
        self.enhance_button.clicked.connect(self.enhance_requested)
        self.negative = QPlainTextEdit(placeholderText="What to avoid (optional)")
        self.negative.setObjectName("negative-prompt")
        self.negative.setMaximumHeight(70)
        self.model = QComboBox()
        self.model.setObjectName("model")
        self.model_hint = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText, openExternalLinks=True)
        self.model_hint.setObjectName("model-hint")
        self.loras = LoraPicker()
        self.vae = QComboBox(toolTip="Decode with another VAE, or a TAESD (fast, a little less sharp)")
        self.vae.setObjectName("vae")
        self.vae.addItem("The model's own", "")
        self._addons: tuple[ModelEntry, ...] = ()
        self.model.currentIndexChanged.connect(self._on_model_changed)
        self.width_box = self._side_box()
        self.height_box = self._side_box()
        self.steps = QSpinBox(minimum=1, maximum=MAX_STEPS, value=20)
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=MAX_GUIDANCE, singleStep=0.5, value=7.0, decimals=1)
        self.scheduler = QComboBox()
        self.scheduler.addItems(SCHEDULERS)
        self.scheduler.setCurrentText("Euler a")
        self.mode = QComboBox()
        self.mode.setObjectName("mode")
        for mode in MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.strength = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=0.75, decimals=2)
        self.strength.setToolTip("How much of the source image may change (image to image, inpaint)")
        self.batch = QSpinBox(minimum=1, maximum=16, value=1)
        self.batch.setToolTip("Images per press; each becomes its own layer")
        self.seed = QLineEdit("0")
        self.seed.setObjectName("seed")
        self.dice = QToolButton(text="Random", toolTip="New random seed")
        self.lock = QCheckBox("Lock", toolTip="Keep this seed for every generation")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Generate (Ctrl+Enter)")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", enabled=False, toolTip="Stop the running generation (Esc)")
        self.clear_button = QPushButton("Clear queue", enabled=False)
        self.queue_label = QLabel("")
        self.queue_label.setObjectName("queue")
        self.progress = QProgressBar(minimum=0, maximum=1, value=0, textVisible=True)
        self.progress.setFormat("Idle")
        self.notice = QLabel(wordWrap=True)
        self.notice.setObjectName("notice")
        self.notice.setStyleSheet("color: #e0a040;")
        self.fast_mode = FastModeSwitch(self)  # Fast mode: the switch and what it chose (fast_mode_switch.py)
        self._build_layout()
        self.model.currentIndexChanged.connect(lambda _index: self.fast_mode.refresh())
        self.dice.clicked.connect(self._on_dice)
        self.generate_button.clicked.connect(self.request_generate)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.clear_button.clicked.connect(self.clear_queue_requested)
        for box in (self.width_box, self.height_box):
            box.editingFinished.connect(self._on_size_edited)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self._on_mode_changed()

    def _side_box(self) -> QSpinBox:
        box = QSpinBox(minimum=MIN_SIDE, maximum=MAX_SIDE, singleStep=SIZE_STEP, value=512, suffix=" px")
        box.setKeyboardTracking(False)
        return box

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow(self.model_hint)
        form.addRow(self.fast_mode)
        form.addRow("LoRAs", self.loras)
        form.addRow("VAE", self.vae)
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        form.addRow("Size", size)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Sampler", self.scheduler)
        form.addRow("Mode", self.mode)
        form.addRow("Strength", self.strength)
        form.addRow("Batch", self.batch)
        from desktop.ui.hires_fix import HiresFixBox  # issue 13: a self-contained widget, one row

        self.hires = HiresFixBox()
        form.addRow("Hires fix", self.hires)
        seed = QHBoxLayout()
        seed.addWidget(self.seed, 1)
        seed.addWidget(self.dice)
        seed.addWidget(self.lock)
        form.addRow("Seed", seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        queue = QHBoxLayout()
        queue.addWidget(self.queue_label, 1)
        queue.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel("Prompt"), 1)
        prompt_row.addWidget(self.enhance_button)
        layout.addLayout(prompt_row)
        layout.addWidget(self.prompt, 2)
        layout.addWidget(QLabel("Negative prompt"))
        layout.addWidget(self.negative)
        layout.addLayout(form)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(queue)
        layout.addStretch(0)

    # ------------------------------------------------------------------ models
    def set_models(self, entries: list[ModelEntry], models_dir: str, select: str = "") -> None:
        """Fill the model list; with none usable, say plainly how to add one.

        A rescan keeps the selected model unless `select` names another; the selection signal fires once,
        and only when the selection changed (each one preloads a model on the lane).
        """
        previous = self.selected_model()
        select = select or (previous.path if previous else "")
        self.model.blockSignals(True)
        self.model.clear()
        usable = [e for e in entries if e.usable]
        for entry in usable:
            self.model.addItem(f"{entry.name}  ·  {entry.family}", entry)
        broken = [e for e in entries if not e.usable]
        if usable:
            index = next((i for i, e in enumerate(usable) if select and select in (e.name, e.path)), 0)
            self.model.setCurrentIndex(index)
            hint = ""
        else:
            hint = (f"<b>No model yet.</b> Import a .safetensors checkpoint or download one (File &gt; Models…), "
                    f"put a diffusers model folder (SD 1.x, SD 2.x or SDXL) in <code>{models_dir}</code>, or start "
                    "Atelier with <code>--model PATH</code>.")
        if broken:
            hint += "<br>" + "<br>".join(f"⚠ {e.problem}" for e in broken[:3])
        self.model_hint.setText(hint)
        self.model_hint.setVisible(bool(hint))
        self.model.setEnabled(bool(usable))
        self.model.blockSignals(False)
        now = self.selected_model()
        if (now.path if now else None) != (previous.path if previous else None):
            self.model.currentIndexChanged.emit(self.model.currentIndex())

    def selected_model(self) -> ModelEntry | None:
        return self.model.currentData()

    def set_addons(self, entries: list[ModelEntry]) -> None:
        """Every discovered model: the LoRAs, VAEs and TAESDs among them are offered with the model."""
        self._addons = tuple(e for e in entries if e.kind in (LORA, VAE, TAESD))
        entry = self.selected_model()
        self.loras.set_entries(list(self._addons), entry.family if entry else "")
        chosen = self.vae.currentData() or ""
        self.vae.clear()
        self.vae.addItem("The model's own", "")
        for addon in self._addons:
            if addon.kind != LORA and addon.usable:
                self.vae.addItem(f"{addon.name}  ·  {addon.kind}", addon.name)
        self.select_vae(chosen)
        self.fast_mode.refresh()  # the recipe depends on the LoRAs and TAESD there are

    def addon_entries(self) -> tuple[ModelEntry, ...]:
        """What a generation job carries so that the lane can find LoRAs and VAEs by name."""
        return self._addons

    def select_vae(self, name: str) -> None:
        index = self.vae.findData(name)
        if index < 0 and name:  # restored from an image whose VAE is not here: kept, so the job says it is missing
            self.vae.addItem(f"{name} (not installed)", name)
            index = self.vae.count() - 1
        self.vae.setCurrentIndex(max(0, index))

    def _on_model_changed(self, _index: int) -> None:
        entry = self.selected_model()
        self.loras.set_family(entry.family if entry else "")

    # ------------------------------------------------------------------ values
    def _on_size_edited(self) -> None:
        box = self.sender()
        value = box.value()
        if value % SIZE_STEP:
            snapped = nearest_valid_side(value)
            box.setValue(snapped)
            self.show_notice(f"{value} px is not a multiple of {SIZE_STEP}: snapped to {snapped} px")

    def _on_mode_changed(self, _index: int = 0) -> None:
        self.strength.setEnabled(self.current_mode() in ("img2img", "inpaint", "outpaint"))

    def current_mode(self) -> str:
        return self.mode.currentData() or "txt2img"

    def _on_dice(self) -> None:
        self.seed.setText(str(random_seed()))

    def _on_prompt_changed(self) -> None:
        if not self.prompt.toPlainText().strip():
            self.original_prompt = ""  # an emptied prompt starts over

    def set_enhancing(self, running: bool) -> None:
        self.enhance_button.setText("Stop enhancing" if running else "Enhance")

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)

    def set_params(self, params: GenerationParams) -> None:
        """Restore the panel exactly (Reuse settings)."""
        self.prompt.setPlainText(params.prompt)
        self.negative.setPlainText(params.negative_prompt)
        self.original_prompt = params.original_prompt
        self.width_box.setValue(params.width)
        self.height_box.setValue(params.height)
        self.steps.setValue(params.steps)
        self.guidance.setValue(params.guidance)
        self.scheduler.setCurrentText(params.scheduler)
        self.seed.setText(str(params.seed))
        self.mode.setCurrentIndex(max(0, self.mode.findData(params.mode)))
        self.strength.setValue(params.strength)
        self.batch.setValue(params.batch_size)
        self.loras.set_choices(params.loras)
        self.select_vae(params.vae)
        self.hires.set_from(params)
        for index in range(self.model.count()):
            if self.model.itemData(index).name == params.model:
                self.model.setCurrentIndex(index)

    def params(self) -> GenerationParams:
        """The current settings as validated params; raises ParamError with the reason."""
        entry = self.selected_model()
        if entry is None:
            raise ParamError("choose a model first (see the note under Model)")
        seed_text = self.seed.text().strip()
        if not self.lock.isChecked() and seed_text in ("", "-1"):
            seed_text = str(random_seed())
        return self.hires.apply(GenerationParams(
            prompt=self.prompt.toPlainText().strip(),
            negative_prompt=self.negative.toPlainText().strip(),
            model=entry.name,
            width=self.width_box.value(),
            height=self.height_box.value(),
            steps=self.steps.value(),
            guidance=round(self.guidance.value(), 2),
            scheduler=self.scheduler.currentText(),
            seed=parse_number("seed", seed_text, int),
            mode=self.current_mode(),
            strength=round(self.strength.value(), 2),
            batch_size=self.batch.value(),
            loras=self.loras.choices(),
            vae=self.vae.currentData() or "",
            original_prompt=self.original_prompt,
            fast_mode=self.fast_mode.on,
        ))

    def request_generate(self) -> None:
        try:
            params = self.params()
        except ParamError as error:
            self.show_notice(str(error))
            return
        self.show_notice("")
        self.generate_requested.emit(params)
        if not self.lock.isChecked():
            self._on_dice()  # the next press gets a fresh seed; this one is recorded in the image

    # ------------------------------------------------------------------ progress
    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if not running:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("Idle")

    def set_progress(self, step: int, total: int, eta_s: float | None) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(step)
        eta = format_eta(eta_s)
        self.progress.setFormat(f"Step {step}/{total}" + (f" · {eta}" if eta else ""))

    def set_busy_text(self, text: str) -> None:
        self.progress.setRange(0, 0)  # indeterminate while loading
        self.progress.setFormat(text)

    def set_queue(self, waiting: int) -> None:
        self.queue_label.setText(f"{waiting} waiting in queue" if waiting else "")
        self.clear_button.setEnabled(waiting > 0)
