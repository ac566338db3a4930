"""The Settings menu reaches the lane: fast decode uses the user's TAESD, C2PA choice travels with jobs."""


import numpy as np
import pytest

from desktop.core.settings import Settings


@pytest.fixture
def atelier(start_atelier, tiny_sd15, tiny_taesd):
    return start_atelier({"tiny-sd15": tiny_sd15, "taesd/taesd": tiny_taesd}, show=False, steps=2, seed=3)

def generate(qtbot, app):
    with qtbot.waitSignal(app.controller.image_ready, timeout=60000) as blocker:
        app.window.prompt_panel.generate_button.click()
    qtbot.waitUntil(lambda: app.controller.idle, timeout=10000)
    return np.asarray(blocker.args[0].image.to_pil())


def test_fast_decode_switches_the_final_decoder_to_the_installed_taesd(qtbot, atelier, app_paths):
    full = generate(qtbot, atelier)
    atelier.settings_actions["fast_decode"].setChecked(True)
    assert Settings.load(app_paths.config_dir / "settings.json").fast_decode
    assert atelier.controller.job_options["fast_decode"] is True
    fast = generate(qtbot, atelier)
    engine = atelier.worker.resources["image_engine"]  # the lane's own resources
    assert engine.fast_decoder is not None and engine.fast_decoder.folder.endswith("taesd")
    assert fast.shape == full.shape and not np.array_equal(fast, full)
    atelier.settings_actions["fast_decode"].setChecked(False)
    assert np.array_equal(generate(qtbot, atelier), full)


def test_c2pa_choice_travels_with_each_job(atelier, app_paths):
    assert atelier.controller.job_options["c2pa_key_dir"] == ""
    atelier.settings_actions["write_c2pa"].setChecked(True)
    assert atelier.controller.job_options["c2pa_key_dir"] == str(app_paths.config_dir / "c2pa")
