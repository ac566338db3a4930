"""The first-run welcome: shown with no model, its three ways to a model, and what each one does."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import Qt

from desktop.core.settings import Settings
from desktop.ui.welcome import WelcomePanel, starter_models
from desktop.ui.welcome_actions import ModelSetup


def test_starter_models_come_from_the_catalog_smallest_first_images_only(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [
        {"name": "SDXL-Turbo", "kind": "image", "size_bytes": 6_900_000_000},
        {"name": "SD-Turbo", "kind": "image", "size_bytes": 2_600_000_000, "note": "1 step"},
        {"name": "Qwen2.5-0.5B-Instruct", "kind": "chat", "size_bytes": 990_000_000},
        {"name": "no size", "kind": "image"},
    ]}))
    assert [(s.name, s.size_bytes) for s in starter_models(catalog)] == [
        ("SD-Turbo", 2_600_000_000), ("SDXL-Turbo", 6_900_000_000)]
    assert starter_models(tmp_path / "absent.json") == []
    catalog.write_text("{ not json")
    assert starter_models(catalog) == []


def test_buttons_emit_the_chosen_file_and_folder_and_a_cancelled_dialog_emits_nothing(qtbot, tmp_path):
    answers = {"file": str(tmp_path / "model.safetensors"), "folder": ""}
    panel = WelcomePanel(choose_file=lambda parent: answers["file"], choose_folder=lambda parent: answers["folder"])
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.model_file_chosen) as blocker:
        qtbot.mouseClick(panel.add_file_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [answers["file"]]
    with qtbot.assertNotEmitted(panel.models_folder_chosen):
        qtbot.mouseClick(panel.folder_button, Qt.MouseButton.LeftButton)
    answers["folder"] = str(tmp_path)
    with qtbot.waitSignal(panel.models_folder_chosen) as blocker:
        qtbot.mouseClick(panel.folder_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [str(tmp_path)]


def test_download_button_shows_sizes_only_when_a_catalog_and_a_downloader_exist(qtbot, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([{"name": "SD-Turbo", "size_bytes": 2_600_000_000}]))
    without = WelcomePanel(starter_models(catalog), download_available=False)
    with_it = WelcomePanel(starter_models(catalog), download_available=True)
    for panel in (without, with_it):
        qtbot.addWidget(panel)
        panel.show()
    assert not without.download_button.isVisible()
    assert with_it.download_button.isVisible() and "2.6 GB" in with_it.download_button.text()
    assert "SD-Turbo: 2.6 GB" in with_it.starters_label.text()
    with qtbot.waitSignal(with_it.download_requested):
        qtbot.mouseClick(with_it.download_button, Qt.MouseButton.LeftButton)


@pytest.fixture
def setup(qtbot, app_paths):
    settings_path = app_paths.config_dir / "settings.json"
    model_setup = ModelSetup(Settings(), settings_path, lambda: app_paths.models_dir)
    messages = []
    model_setup.message.connect(lambda text, busy: messages.append((text, busy)))
    return model_setup, settings_path, messages


def test_a_models_folder_is_remembered_and_its_model_selected(qtbot, setup, tmp_path, tiny_sd15):
    model_setup, settings_path, messages = setup
    folder = tmp_path / "a1111-models"
    shutil.copytree(tiny_sd15, folder / "tiny")
    with qtbot.waitSignal(model_setup.models_changed) as blocker:
        model_setup.add_folder(str(folder))
    assert blocker.args == [str(folder / "tiny")]
    assert Settings.load(settings_path).extra_model_dirs == [str(folder)]
    assert messages[-1] == (f"Found 1 image model in {folder}.", False)
    model_setup.add_folder(str(folder))  # the same folder twice is listed once
    assert Settings.load(settings_path).extra_model_dirs == [str(folder)]


def test_an_empty_or_missing_folder_says_what_to_do(setup, tmp_path):
    model_setup, settings_path, messages = setup
    model_setup.add_folder(str(tmp_path / "nowhere"))
    assert "is not a folder" in messages[-1][0] and not settings_path.exists()
    (tmp_path / "empty").mkdir()
    model_setup.add_folder(str(tmp_path / "empty"))
    assert "No usable Stable Diffusion model" in messages[-1][0] and "Rescan" in messages[-1][0]


def test_a_pickle_or_a_broken_file_is_refused_at_once_without_a_helper_process(setup, tmp_path):
    model_setup, _path, messages = setup
    pickle_file = tmp_path / "old.ckpt"
    pickle_file.write_bytes(b"\x80\x04K\x01.")
    model_setup.import_file(str(pickle_file))
    assert model_setup.process is None and "pickle" in messages[-1][0].lower()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    model_setup.import_file(str(broken))
    assert model_setup.process is None and messages[-1][1] is False and "broken.safetensors" in messages[-1][0]


def test_a_checkpoint_import_runs_the_command_line_importer_and_reports_its_answer(qtbot, setup, tmp_path, tiny_sd15):
    """A real `main.py models import` child: the tiny checkpoint does not fit the shipped SD 1.5
    skeleton (real sizes), so the importer's own refusal must come back to the welcome."""
    from diffusers import StableDiffusionPipeline

    from desktop.engine.ldm_layout import save_ldm_checkpoint

    model_setup, _path, messages = setup
    checkpoint = save_ldm_checkpoint(StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True),
                                     tmp_path / "tiny.safetensors")
    model_setup.import_file(str(checkpoint))
    assert messages[-1][1] is True and "Importing tiny.safetensors" in messages[-1][0]
    qtbot.waitUntil(lambda: model_setup.process is None, timeout=120000)
    assert messages[-1][1] is False
    assert messages[-1][0].startswith("Could not import: ") and "does not fit the SD 1.x" in messages[-1][0]


def test_the_window_shows_the_welcome_until_a_model_arrives(qtbot, app_paths, tmp_path, tiny_sd15):
    from desktop.app import Atelier

    atelier = Atelier(paths=app_paths)
    qtbot.addWidget(atelier.window)
    atelier.window.show()
    try:
        welcome = atelier.welcome
        qtbot.waitUntil(welcome.isVisible)
        canvas = atelier.window.canvas
        assert welcome.parent() is canvas and canvas.rect().contains(welcome.geometry())
        folder = tmp_path / "my-models"
        shutil.copytree(tiny_sd15, folder / "tiny")
        welcome.models_folder_chosen.emit(str(folder))  # what the folder button sends after its dialog
        qtbot.waitUntil(lambda: not welcome.isVisible())
        assert atelier.prompt.selected_model.path == str(folder / "tiny")
        assert atelier.settings.extra_model_dirs == [str(folder)]
    finally:
        atelier.shutdown()


def test_generate_with_no_model_says_what_to_do_and_queues_nothing(qtbot, start_atelier):
    from PySide6.QtCore import Qt

    from desktop.core.prompt_model import NO_MODEL

    app = start_atelier({})
    panel = app.window.prompt_panel
    qtbot.waitUntil(app.welcome.isVisible)
    assert panel.model_box.count() == 0
    qtbot.keyClicks(panel.prompt, "a lighthouse")
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)  # the welcome leaves Generate enabled
    qtbot.waitUntil(lambda: NO_MODEL in panel.notice_text())
    assert app.controller.idle and list(app.outputs_dir().rglob("*.png")) == []
    assert app.welcome.isVisible()  # the way to a model is still on screen
