"""The prompt panel: a view of the PromptModel (prompt, model, size, steps, seed, ...) plus Generate and progress.

Every field is bound to the model (desktop/ui/binding.py); code elsewhere reads and changes the model,
never these widgets. The panel is laid out to fit a 1280x800 window without scrolling: rarely changed
settings sit in a collapsed Advanced section, and Generate, the progress bar and notices live in a footer
that never scrolls away. Features add their own rows with `add_row(label, widget, advanced=...)`.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.models import LORA
from desktop.core.params import (
    MAX_GUIDANCE,
    MAX_SIDE,
    MAX_STEPS,
    MIN_SIDE,
    MODES,
    SCHEDULERS,
    SIZE_STEP,
    nearest_valid_side,
    parse_number,
    random_seed,
)
from desktop.core.prompt_model import PromptModel
from desktop.ui.binding import bind
from desktop.ui.fast_mode_switch import FastModeSwitch
from desktop.ui.lora_picker import LoraPicker
from desktop.ui.theme import set_tone

MODE_LABELS = {"txt2img": "Text to image", "img2img": "Image to image", "inpaint": "Inpaint", "outpaint": "Outpaint"}
SOURCE_MODES = ("img2img", "inpaint", "outpaint")  # modes that start from the canvas: Strength applies
NOTICE_LINES = 3  # a longer notice is cut (its whole text is the tooltip): it never pushes Generate away
SPACING = 6


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d} left" if seconds >= 60 else f"{seconds} s left"


def seeds_text(seed: int, batch: int) -> str:
    """The seeds a press uses: one per image of a batch, counting up."""
    return f"{batch} images, seeds {seed}–{seed + batch - 1}" if batch > 1 else f"seed {seed}"


def elide_lines(text: str, font, width: int, lines: int) -> str:
    """`text` word-wrapped at `width` pixels, cut to `lines` lines with an ellipsis when it is longer."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    ends = []
    while len(ends) <= lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        ends.append(line.textStart() + line.textLength())
    layout.endLayout()
    if len(ends) <= lines:
        return text
    last_start = ends[lines - 2] if lines > 1 else 0
    tail = QFontMetrics(font).elidedText(" ".join(text[last_start:].split()), Qt.TextElideMode.ElideRight, width)
    return text[:last_start] + tail


class PromptEdit(QPlainTextEdit):
    """The prompt box: it takes the room left over, but asks for little (so the settings never need scrolling)."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(200, 60)


class PromptPanel(QWidget):
    """Shows and edits a PromptModel; asks for generations; shows their progress."""

    generate_requested = Signal()  # the Generate button or Ctrl+Enter: the controller builds the job from the model
    enhance_requested = Signal()  # the chat feature rewrites the prompt (desktop/ui/chat/enhance.py)
    cancel_requested = Signal()
    clear_queue_requested = Signal()

    def __init__(self, model: PromptModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt-panel")
        self.model = model or PromptModel()
        self.models_folder = "the models folder"  # said in the hint when there is no model (set_models_folder)
        self._build_widgets()
        self._build_layout()
        slot, model = self._on_model_changed, self.model
        model.changed.connect(slot)  # before the bindings: lists are filled first
        self.destroyed.connect(lambda *_: model.changed.disconnect(slot))  # the model may outlive this view
        self._bind()
        for box in (self.model_box, self.vae, self.scheduler, self.mode, self.loras.add_box, self.hires.upscaler):
            # a long model or LoRA name must not widen the dock: the list shows it in full when open
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            box.setMinimumWidth(80)  # wins over a size hint cached from the first, longest item
        self.dice.clicked.connect(self._on_dice)
        self.seed.textEdited.connect(self._on_seed_typed)
        self.generate_button.clicked.connect(self.request_generate)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.clear_button.clicked.connect(self.clear_queue_requested)
        self.enhance_button.clicked.connect(self.enhance_requested)
        self.notice_close.clicked.connect(lambda: self.show_notice(""))
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        for box in (self.width_box, self.height_box):
            box.editingFinished.connect(self._on_size_edited)
        for name in ("models", "addons", "selected_model", "mode", "batch_size"):
            self._on_model_changed(name, self.model.get(name))

    # ------------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.prompt = PromptEdit(placeholderText="Describe the image…")
        self.prompt.setObjectName("prompt")
        self.prompt.setMinimumHeight(54)
        self.enhance_button = QToolButton(text="Enhance", toolTip="Let the chat model rewrite the prompt for "
                                          "this model's family; you see the change before it is used")
        self.enhance_button.setObjectName("enhance")
        self.negative = QPlainTextEdit(placeholderText="Negative prompt: what to avoid (optional)")
        self.negative.setObjectName("negative-prompt")
        self.negative.setToolTip("Negative prompt: what the image should not show")
        self.negative.setFixedHeight(46)
        self.model_box = QComboBox()
        self.model_box.setObjectName("model")
        self.model_hint = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText, openExternalLinks=True)
        self.model_hint.setObjectName("model-hint")
        self.loras = LoraPicker()
        self.vae = QComboBox(toolTip="Decode with another VAE, or a TAESD (fast, a little less sharp)")
        self.vae.setObjectName("vae")
        self.width_box = self._side_box("width")
        self.height_box = self._side_box("height")
        self.steps = QSpinBox(minimum=1, maximum=MAX_STEPS, value=20)
        self.steps.setObjectName("steps")
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=MAX_GUIDANCE, singleStep=0.5, value=7.0, decimals=1)
        self.guidance.setToolTip("How closely to follow the prompt (CFG scale)")
        self.scheduler = QComboBox()
        for name in SCHEDULERS:
            self.scheduler.addItem(name, name)
        self.mode = QComboBox()
        self.mode.setObjectName("mode")
        for mode in MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.strength = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, value=0.75, decimals=2)
        self.strength.setToolTip("How much of the source image may change (image to image, inpaint)")
        self.batch = QSpinBox(minimum=1, maximum=16, value=1)
        self.batch.setToolTip("Images per press; each becomes its own layer, with the next seed")
        self.seed = QLineEdit("0")
        self.seed.setObjectName("seed")
        self.seed.setToolTip("The seed of the image being made or made last. Unlocked, every press picks a new "
                             "one; typing a seed locks it")
        self.dice = QToolButton(toolTip="Pick a new random seed now")
        self.dice.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.dice.setObjectName("dice")
        self.lock = QCheckBox("Lock", toolTip="Keep this seed for the next generations")
        self.lock.setObjectName("seed-lock")
        self.seed_note = QLabel("")
        self.seed_note.setObjectName("seed-note")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Generate (Ctrl+Enter)")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", enabled=False, toolTip="Stop the running generation (Esc)")
        self.cancel_button.setObjectName("cancel")
        self.clear_button = QPushButton("Clear queue", enabled=False)
        self.queue_label = QLabel("")
        self.queue_label.setObjectName("queue")
        self.progress = QProgressBar(minimum=0, maximum=1, value=0, textVisible=True)
        self.progress.setObjectName("progress")
        self.progress.setFormat("Idle")
        self._busy: tuple[str, float] | None = None  # what the job waits for, and since when
        self._busy_timer = QTimer(self, interval=1000)  # counts the seconds: a long load is seen to be alive
        self._busy_timer.timeout.connect(self._show_busy)
        self.notice = QLabel(wordWrap=True)
        self.notice.setObjectName("notice")
        set_tone(self.notice, "warning")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_close = QToolButton(text="✕", toolTip="Dismiss", autoRaise=True)
        self.notice_close.setObjectName("notice-close")
        self.fast_mode = FastModeSwitch(self)  # Fast mode: the switch and what it chose (fast_mode_switch.py)
        self.advanced_toggle = QToolButton(text="Advanced", checkable=True, autoRaise=True,
                                           toolTip="Guidance, sampler, VAE and other settings you rarely change")
        self.advanced_toggle.setObjectName("advanced-toggle")
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)

    def _side_box(self, name: str) -> QSpinBox:
        box = QSpinBox(minimum=MIN_SIDE, maximum=MAX_SIDE, singleStep=SIZE_STEP, value=512, suffix=" px")
        box.setObjectName(name)
        box.setKeyboardTracking(False)
        return box

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(SPACING + 2)
        form.setVerticalSpacing(SPACING - 2)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return form

    def _build_layout(self) -> None:
        self.form = self._form()
        self.form.addRow("Model", self.model_box)
        self.form.addRow(self.model_hint)
        self.form.addRow(self.fast_mode)
        self.form.addRow("LoRAs", self.loras)
        self.form.addRow("Mode", self.mode)
        self.form.addRow("Strength", self.strength)
        size = QHBoxLayout()
        size.setSpacing(4)
        size.addWidget(self.width_box, 1)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box, 1)
        self.form.addRow("Size", size)
        steps = QHBoxLayout()
        steps.setSpacing(SPACING)
        steps.addWidget(self.steps, 1)
        steps.addWidget(QLabel("Batch"))
        steps.addWidget(self.batch, 1)
        self.form.addRow("Steps", steps)
        from desktop.ui.hires_fix import HiresFixBox  # issue 13: a self-contained widget, one row

        self.hires = HiresFixBox()
        self.form.addRow("Hires fix", self.hires)
        seed = QHBoxLayout()
        seed.setSpacing(4)
        seed.addWidget(self.seed, 1)
        seed.addWidget(self.dice)
        seed.addWidget(self.lock)
        self.form.addRow("Seed", seed)
        self.form.addRow("", self.seed_note)
        self.form.addRow(self.advanced_toggle)
        # rarely changed settings: rows of the same form (one label column), shown when Advanced is open
        self.advanced_rows: list = []
        self.add_row("Guidance", self.guidance, advanced=True)
        self.add_row("Sampler", self.scheduler, advanced=True)
        self.add_row("VAE", self.vae, advanced=True)

        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel("Prompt"), 1)
        prompt_row.addWidget(self.enhance_button)
        body = QWidget()
        body.setObjectName("prompt-panel-body")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(SPACING)
        column.addLayout(prompt_row)
        column.addWidget(self.prompt, 1)
        column.addWidget(self.negative)
        column.addLayout(self.form)
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroll.setObjectName("prompt-panel-scroll")
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(body)

        self.notice_row = QWidget()
        notice_layout = QHBoxLayout(self.notice_row)
        notice_layout.setContentsMargins(0, 0, 0, 0)
        notice_layout.addWidget(self.notice, 1)
        notice_layout.addWidget(self.notice_close, 0, Qt.AlignmentFlag.AlignTop)
        self._notice = ""
        self.notice.setMaximumHeight(self.notice.fontMetrics().lineSpacing() * NOTICE_LINES + 4)  # a safeguard
        self.notice_row.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        queue = QHBoxLayout()
        queue.addWidget(self.queue_label, 1)
        queue.addWidget(self.clear_button)
        footer = QWidget()
        footer.setObjectName("prompt-panel-footer")
        # opaque: the progress bar repaints at every step, and then nothing behind the footer has to
        footer.setAutoFillBackground(True)
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(0, 0, 0, 0)
        footer_layout.setSpacing(SPACING - 2)
        footer_layout.addWidget(self.notice_row)
        footer_layout.addLayout(buttons)
        footer_layout.addWidget(self.progress)
        footer_layout.addLayout(queue)
        self.footer = footer

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(SPACING)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(footer)

    def add_row(self, label: str, widget, advanced: bool = False) -> None:
        """A feature's own setting (a widget or a layout): in the main rows (above Advanced), or in Advanced."""
        if advanced:
            self.form.addRow(label, widget)
            self.advanced_rows.append(widget)
            self.form.setRowVisible(widget, self.advanced_toggle.isChecked())
        else:
            self.form.insertRow(self._row_of(self.advanced_toggle), label, widget)

    def _row_of(self, widget) -> int:
        row, _role = self.form.getWidgetPosition(widget)
        return row

    def _bind(self) -> None:
        model = self.model
        bind(model, "prompt", self.prompt)
        bind(model, "negative_prompt", self.negative)
        bind(model, "selected_model", self.model_box)
        bind(model, "loras", self.loras)
        bind(model, "vae", self.vae)
        bind(model, "width", self.width_box)
        bind(model, "height", self.height_box)
        bind(model, "steps", self.steps)
        bind(model, "guidance", self.guidance)
        bind(model, "scheduler", self.scheduler)
        bind(model, "mode", self.mode)
        bind(model, "strength", self.strength)
        bind(model, "batch_size", self.batch)
        bind(model, "seed", self.seed, parse=lambda text: parse_number("seed", text, int), show=str)
        bind(model, "seed_locked", self.lock)
        bind(model, "fast_mode", self.fast_mode.check)
        self.hires.bind_to(model)

    # ------------------------------------------------------------------ the model changed
    def _on_model_changed(self, name: str, value) -> None:
        if name == "models":
            self._fill_models()
        elif name == "addons":
            self._fill_addons()
        elif name == "selected_model":
            self.loras.set_family(value.family if value is not None else "")
        elif name == "vae":
            self._offer_vae(value)
        elif name == "mode":
            self.form.setRowVisible(self.strength, value in SOURCE_MODES)
        if name in ("selected_model", "addons", "steps", "fast_mode"):
            self.fast_mode.refresh()  # the recipe depends on the model, its LoRAs and TAESD, the steps
        if name in ("seed", "batch_size"):
            self.seed_note.setText(seeds_text(self.model.seed, self.model.batch_size))
            self.form.setRowVisible(self.seed_note, self.model.batch_size > 1)

    def set_models_folder(self, folder: str) -> None:
        """Where the hint tells the user to put a model when there is none."""
        self.models_folder = folder
        self._fill_models()

    def _fill_models(self) -> None:
        """The usable image models in the list; with none, say plainly how to add one."""
        usable = self.model.usable_models()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for entry in usable:
            self.model_box.addItem(f"{entry.name}  ·  {entry.family}", entry)
        selected = self.model.selected_model
        self.model_box.setCurrentIndex(next((i for i, e in enumerate(usable) if e == selected), -1))
        self.model_box.blockSignals(False)
        hint = "" if usable else (
            "<b>No model yet.</b> Import a .safetensors checkpoint or download one (File &gt; Models…), put a "
            f"diffusers model folder (SD 1.x, SD 2.x or SDXL) in <code>{self.models_folder}</code>, or start "
            "Atelier with <code>--model PATH</code>.")
        broken = [e for e in self.model.models if not e.usable]
        if broken:
            hint += "<br>" + "<br>".join(f"⚠ {e.problem}" for e in broken[:3])
        self.model_hint.setText(hint)
        self.model_hint.setVisible(bool(hint))
        self.model_box.setEnabled(bool(usable))

    def _fill_addons(self) -> None:
        addons = self.model.addons
        entry = self.model.selected_model
        self.loras.set_entries(list(addons), entry.family if entry else "")
        self.vae.blockSignals(True)
        self.vae.clear()
        self.vae.addItem("The model's own", "")
        for addon in addons:
            if addon.kind != LORA and addon.usable:
                self.vae.addItem(f"{addon.name}  ·  {addon.kind}", addon.name)
        self._offer_vae(self.model.vae)
        self.vae.setCurrentIndex(max(0, self.vae.findData(self.model.vae)))
        self.vae.blockSignals(False)

    def _offer_vae(self, name: str) -> None:
        if name and self.vae.findData(name) < 0:  # restored from an image whose VAE is not here: the job says so
            self.vae.addItem(f"{name} (not installed)", name)

    # ------------------------------------------------------------------ what the user does
    def _on_size_edited(self) -> None:
        box = self.sender()
        value = box.value()
        if value % SIZE_STEP:
            snapped = nearest_valid_side(value)
            self.model.set(box.objectName(), snapped)
            self.show_notice(f"{value} px is not a multiple of {SIZE_STEP}: snapped to {snapped} px")

    def _on_dice(self) -> None:
        self.model.seed = random_seed()

    def _on_seed_typed(self, text: str) -> None:
        # a seed typed by hand is the one wanted; empty or -1 means random, as in AUTOMATIC1111
        self.model.seed_locked = text.strip() not in ("", "-1")

    def _on_advanced_toggled(self, shown: bool) -> None:
        for widget in self.advanced_rows:
            self.form.setRowVisible(widget, shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def request_generate(self) -> None:
        self.generate_requested.emit()

    # ------------------------------------------------------------------ what the panel is told to show
    def set_enhancing(self, running: bool) -> None:
        self.enhance_button.setText("Stop enhancing" if running else "Enhance")

    def show_notice(self, text: str) -> None:
        """One notice at a time, at most NOTICE_LINES lines (the whole text as tooltip); "" clears it."""
        self._notice = text
        self.notice.setToolTip(text)
        self.notice_row.setVisible(bool(text))
        self._fit_notice()

    def notice_text(self) -> str:
        return self._notice

    def _fit_notice(self) -> None:
        width = self.notice.contentsRect().width() if self.notice.isVisible() else self.footer.width() - 30
        # a few pixels to spare: the label wraps words a little differently from a plain layout
        self.notice.setText(elide_lines(self._notice, self.notice.font(), max(80, width - 6), NOTICE_LINES))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self._notice:
            self._fit_notice()

    def set_generate_blocked(self, reason: str | None) -> None:
        """Disable Generate and say why (an empty mask for inpaint, ...); None enables it."""
        self.generate_button.setEnabled(reason is None)
        self.generate_button.setToolTip(reason or "Generate (Ctrl+Enter)")

    def set_size_fixed(self, reason: str | None) -> None:
        """The canvas sets the size (the selection, or a mode that reads it): the boxes show it, read-only."""
        for box in (self.width_box, self.height_box):
            box.setEnabled(reason is None)
            box.setToolTip(reason or "The size of the image to make: multiples of 8")

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if not running:
            self._stop_busy()
            self._show_progress(0, 1, 0, "Idle")

    def set_progress(self, step: int, total: int, eta_s: float | None) -> None:
        self._stop_busy()
        eta = format_eta(eta_s)
        self._show_progress(0, max(1, total), step, f"Step {step}/{total}" + (f" · {eta}" if eta else ""))

    def set_busy_text(self, text: str) -> None:
        """A state with no steps to count (loading a model, waiting for the lane): its words, then seconds."""
        if self._busy is not None and self._busy[0] == text:
            return
        # a determinate bar at 0: an indeterminate one draws no text in most styles
        self._show_progress(0, 1, 0, text)
        self._busy = (text, time.monotonic())
        self._busy_timer.start()

    def _show_progress(self, minimum: int, maximum: int, value: int, text: str) -> None:
        """Only what changed: QProgressBar repaints at once on a new value, a cost paid on the GUI thread."""
        bar = self.progress
        if (bar.minimum(), bar.maximum()) != (minimum, maximum):
            bar.setRange(minimum, maximum)
        if bar.value() != value:
            bar.setValue(value)
        if bar.format() != text:
            bar.setFormat(text)

    def _show_busy(self) -> None:
        if self._busy is not None:
            text, since = self._busy
            self.progress.setFormat(f"{text} {time.monotonic() - since:.0f} s")

    def _stop_busy(self) -> None:
        if self._busy is not None:
            self._busy = None
            self._busy_timer.stop()

    def set_queue(self, waiting: int) -> None:
        self.queue_label.setText(f"{waiting} waiting in queue" if waiting else "")
        self.clear_button.setEnabled(waiting > 0)
