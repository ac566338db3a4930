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


def test_c2pa_cannot_be_ticked_without_the_package_and_the_menu_says_why(start_atelier, app_paths, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "c2pa", None)  # as on a machine where c2pa-python is not installed
    app = start_atelier({}, show=False, write_c2pa=True)  # a setting saved while it was still installed
    action = app.settings_actions["write_c2pa"]
    assert not action.isEnabled() and not action.isChecked()
    assert "not installed" in action.text()
    assert "pip install c2pa-python" in action.toolTip()
    assert app.controller.job_options["c2pa_key_dir"] == ""  # nothing pretends to sign


def test_canvas_export_is_signed_when_the_setting_is_on(qtbot, start_atelier, tmp_path):
    pytest.importorskip("c2pa")
    from canvas_support import gradient
    from file_dialogs import answer_next_file_dialog

    from desktop.core.document import Document
    from desktop.core.edits import AddGeneratedLayer
    from desktop.core.metadata import provenance, read_metadata

    app = start_atelier({}, show=True)
    text = "a red barn\nSteps: 12, Sampler: Euler a, CFG scale: 6, Seed: 77, Size: 64x64, Model: tiny"
    document = Document.from_pixels(gradient(), "Background")
    document.history.do(AddGeneratedLayer(np.full((16, 16, 3), 90, np.uint8), "a red barn", 4, 4, text))
    app.workspace.documents.set_document(document)
    answer_next_file_dialog(tmp_path / "unsigned.png")
    app.workspace.actions["export"].trigger()
    assert "c2pa" not in read_metadata(tmp_path / "unsigned.png").extra
    app.settings_actions["write_c2pa"].trigger()  # Settings > Sign Images with C2PA
    assert app.settings_actions["write_c2pa"].isChecked()
    for name in ("signed.png", "signed.webp"):
        answer_next_file_dialog(tmp_path / name)
        app.workspace.actions["export"].trigger()
        assert read_metadata(tmp_path / name).seed == 77
        assert provenance.read_manifest(tmp_path / name)["validation_state"] == "Valid", name
