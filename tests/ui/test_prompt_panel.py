import pytest

from desktop.core.models import ModelEntry
from desktop.core.params import GenerationParams, ParamError
from desktop.ui.prompt_panel import PromptPanel, format_eta

MODELS = [ModelEntry("alpha", "/m/alpha", "checkpoint", "SD 1.x"), ModelEntry("beta", "/m/beta", "checkpoint", "SDXL")]


@pytest.fixture
def panel(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_models(MODELS, "/m")
    return panel


def test_set_params_restores_the_panel_exactly(panel):
    params = GenerationParams(prompt="a heron, ink wash", negative_prompt="text", model="beta", width=768,
                              height=512, steps=33, guidance=4.5, scheduler="DPM++ 2M Karras", seed=123456,
                              mode="img2img", strength=0.4, batch_size=3)
    panel.set_params(params)
    panel.lock.setChecked(True)
    assert panel.params() == params


def test_unlocked_seed_rolls_after_each_press_and_the_used_one_is_emitted(panel, qtbot):
    panel.seed.setText("77")
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        panel.request_generate()
    assert blocker.args[0].seed == 77 and panel.seed.text() != "77"
    panel.lock.setChecked(True)
    panel.seed.setText("5")
    panel.request_generate()
    assert panel.seed.text() == "5"


def test_bad_seed_is_refused_before_anything_is_queued(panel, qtbot):
    panel.seed.setText("banana")
    with qtbot.assertNotEmitted(panel.generate_requested):
        panel.request_generate()
    assert "seed must be a whole number" in panel.notice.text()
    with pytest.raises(ParamError):
        panel.params()


def test_strength_only_applies_to_modes_with_a_source(panel):
    assert not panel.strength.isEnabled()
    panel.mode.setCurrentIndex(panel.mode.findData("inpaint"))
    assert panel.strength.isEnabled()


def test_broken_models_are_explained(qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_models([ModelEntry("half", "/m/half", "checkpoint", problem="/m/half is incomplete: missing vae weights")], "/m")
    assert "No model yet" in panel.model_hint.text() and "missing vae weights" in panel.model_hint.text()


def test_eta_format():
    assert [format_eta(None), format_eta(4.4), format_eta(75)] == ["", "4 s left", "1:15 left"]
