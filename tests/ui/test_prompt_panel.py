"""The prompt panel as a view of the PromptModel: widgets and model stay equal both ways, one line binds a field."""

import pytest
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from desktop.core.models import ModelEntry
from desktop.core.params import GenerationParams, ParamError
from desktop.core.prompt_model import PromptModel
from desktop.ui.binding import bind
from desktop.ui.prompt_panel import PromptPanel, format_eta, seeds_text

MODELS = [ModelEntry("alpha", "/m/alpha", "checkpoint", "SD 1.x"), ModelEntry("beta", "/m/beta", "checkpoint", "SDXL")]


@pytest.fixture
def panel(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.model.set_models(MODELS)
    return panel


def test_set_params_on_the_model_shows_in_every_widget_and_comes_back_exactly(panel):
    params = GenerationParams(prompt="a heron, ink wash", negative_prompt="text", model="beta", width=768,
                              height=512, steps=33, guidance=4.5, scheduler="DPM++ 2M Karras", seed=123456,
                              mode="img2img", strength=0.4, batch_size=3)
    assert panel.model.set_params(params)
    assert panel.prompt.toPlainText() == "a heron, ink wash" and panel.model_box.currentText().startswith("beta")
    assert (panel.width_box.value(), panel.height_box.value(), panel.steps.value()) == (768, 512, 33)
    assert panel.scheduler.currentText() == "DPM++ 2M Karras" and panel.seed.text() == "123456"
    assert panel.mode.currentData() == "img2img" and not panel.strength.isHidden()
    assert panel.model.to_params() == params


def test_what_the_user_types_reaches_the_model(panel, qtbot):
    qtbot.keyClicks(panel.prompt, "a fox")
    panel.steps.setValue(7)  # a spin box commits on Enter or focus out; setValue is that commit
    panel.model_box.setCurrentIndex(1)
    qtbot.mouseClick(panel.lock, Qt.MouseButton.LeftButton)
    params = panel.model.to_params()
    assert (params.prompt, params.steps, params.model, panel.model.seed_locked) == ("a fox", 7, "beta", True)


def test_a_typed_seed_locks_it_and_a_bad_one_is_refused_with_the_reason(panel, qtbot):
    panel.seed.clear()
    qtbot.keyClicks(panel.seed, "banana")
    assert panel.model.seed_locked  # a seed typed by hand is the one wanted
    with pytest.raises(ParamError, match="seed must be a whole number"):
        panel.model.to_params()
    panel.seed.clear()
    qtbot.keyClicks(panel.seed, "77")
    assert panel.model.to_params().seed == 77
    panel.seed.clear()
    qtbot.keyClicks(panel.seed, "-1")  # AUTOMATIC1111's "random"
    assert not panel.model.seed_locked


def test_strength_shows_only_for_modes_with_a_source_and_the_batch_says_its_seeds(panel):
    assert panel.strength.isHidden()
    panel.model.mode = "inpaint"
    assert not panel.strength.isHidden()
    assert panel.seed_note.isHidden()
    panel.model.update(seed=40, batch_size=3)
    assert not panel.seed_note.isHidden() and panel.seed_note.text() == "3 images, seeds 40–42"
    assert seeds_text(5, 1) == "seed 5"


def test_broken_models_are_explained(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_models_folder("/m")
    panel.model.set_models([ModelEntry("half", "/m/half", "checkpoint", problem="/m/half is incomplete: missing vae weights")])
    assert "No model yet" in panel.model_hint.text() and "missing vae weights" in panel.model_hint.text()
    assert "/m" in panel.model_hint.text() and not panel.model_box.isEnabled()
    with pytest.raises(ParamError, match="choose a model first"):
        panel.model.to_params()


class Slider(QWidget):
    """A widget of another helper's: the value()/set_value()/value_changed protocol is all binding needs."""

    value_changed = Signal(float)

    def __init__(self):
        super().__init__()
        self._value = 0.0

    def value(self):
        return self._value

    def set_value(self, value):
        self._value = value
        self.value_changed.emit(value)


def test_any_field_binds_to_a_widget_in_one_line_both_ways(qtbot):
    model = PromptModel()
    slider = Slider()
    qtbot.addWidget(slider)
    bind(model, "strength", slider)  # the one line a new field needs
    assert slider.value() == 0.75
    model.strength = 0.3
    assert slider.value() == 0.3
    slider.set_value(0.6)
    assert model.strength == 0.6
    with pytest.raises(AttributeError):
        bind(model, "no_such_field", Slider())


def test_a_widget_the_model_outlives_is_unbound_when_destroyed(qtbot):
    model = PromptModel()
    panel = PromptPanel(model)
    before = len(model.changed)
    panel.deleteLater()
    qtbot.waitUntil(lambda: len(model.changed) < before, timeout=2000)
    model.update(prompt="still fine", steps=3)  # no call reaches a deleted widget


def test_eta_format():
    assert [format_eta(None), format_eta(4.4), format_eta(75)] == ["", "4 s left", "1:15 left"]
