"""The Models feature in the real window: drop or import a checkpoint and generate with it, LoRA and VAE
pickers, pickles refused unless trusted, a download from a local hub that becomes a usable model, folders."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import fake_hub
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from desktop.core.settings import Settings
from tiny_checkpoints import use_tiny_skeletons, write_ldm_checkpoint, write_lora


@pytest.fixture(scope="module")
def files(tiny_sd15, tmp_path_factory):
    folder = tmp_path_factory.mktemp("downloads")
    return write_ldm_checkpoint(tiny_sd15, folder / "dreamy.safetensors"), write_lora(tiny_sd15, folder / "ink.safetensors")


def make_atelier(qtbot, app_paths, trust: bool = False, models=()):
    from desktop.app import Atelier

    for folder in models:
        shutil.copytree(folder, app_paths.models_dir / Path(folder).name)
    Settings(width=64, height=64, steps=2, seed=9, seed_locked=True).save(app_paths.config_dir / "settings.json")
    atelier = Atelier(paths=app_paths)
    atelier.models.ask_trust = lambda _parent, _path: trust
    qtbot.addWidget(atelier.window)
    return atelier


@pytest.fixture
def atelier(qtbot, app_paths, tiny_sd15, tiny_taesd, monkeypatch, tmp_path):
    use_tiny_skeletons(monkeypatch, tiny_sd15, tmp_path)
    app = make_atelier(qtbot, app_paths, models=(tiny_sd15, tiny_taesd))
    qtbot.waitUntil(lambda: app.worker_started)
    yield app
    app.shutdown()


def drop(atelier, widget, *paths: Path) -> bool:
    """What Qt does with a drop from a real drag: the window's filter sees it before the widget does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    entered = QDragEnterEvent(QPoint(20, 20), *args)
    wanted = atelier.models.drops.eventFilter(widget, entered) and entered.isAccepted()
    # Qt delivers drops only from the platform's own drag, so the filter is called as Qt would call it
    return wanted and atelier.models.drops.eventFilter(widget, QDropEvent(QPointF(20, 20), *args))


def model_names(panel) -> list[str]:
    return [panel.model_box.itemData(i).name for i in range(panel.model_box.count())]


def generate(qtbot, atelier):
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as result:
        atelier.window.prompt_panel.generate_button.click()
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=30000)
    return result.args[0]


def test_a_checkpoint_dropped_on_the_canvas_is_imported_selected_and_generates(qtbot, atelier, files, app_paths):
    qtbot.waitUntil(lambda: "no offload" in atelier.window.device_label.text(), timeout=60000)
    assert "free RAM" in atelier.window.device_label.toolTip()  # why this device, dtype and strategy
    picture = app_paths.outputs_dir / "photo.png"
    Image.new("RGB", (8, 8)).save(picture)
    assert not drop(atelier, atelier.window.canvas, picture, files[0])  # a picture among them: the canvas's
    assert drop(atelier, atelier.window.canvas, files[0])
    qtbot.waitUntil(lambda: atelier.prompt.selected_model is not None and atelier.prompt.model == "dreamy",
                    timeout=60000)
    assert (app_paths.models_dir / "checkpoints" / "dreamy.safetensors").exists()
    assert atelier.workspace.documents.document is None  # not opened as a picture
    result = generate(qtbot, atelier)
    assert result.params.model == "dreamy" and result.image.width == 64
    assert "Model: dreamy" in Image.open(result.path).text["parameters"]
    assert atelier.window.model_label.text() == "Model: dreamy"


def test_loras_and_a_vae_chosen_in_the_panel_run_and_are_recorded(qtbot, atelier, files):
    panel = atelier.window.prompt_panel
    window = atelier.models.open_window()
    assert window.isVisible() and window.tabs.currentIndex() == 0
    window.request_import([str(files[1])])
    qtbot.waitUntil(lambda: panel.loras.add_box.findData("ink") >= 0, timeout=60000)
    assert any(window.table.item(row, 0).text() == "ink" for row in range(window.table.rowCount()))
    atelier.prompt.prompt = "a paper boat"
    plain = generate(qtbot, atelier)
    panel.loras.add("ink", 0.8)
    styled = generate(qtbot, atelier)
    assert styled.params.loras == (("ink", 0.8),) and styled.image.data != plain.image.data
    assert Image.open(styled.path).text["parameters"].startswith("a paper boat <lora:ink:0.8>\n")
    panel.loras.remove("ink")
    atelier.prompt.prompt = "a paper boat <lora:ink:0.8>"  # the same LoRA written in the prompt
    assert generate(qtbot, atelier).image.data == styled.image.data
    atelier.prompt.prompt = "a paper boat"
    panel.vae.setCurrentIndex(panel.vae.findData("tiny-taesd"))
    fast = generate(qtbot, atelier)
    assert fast.params.vae == "tiny-taesd" and "VAE: tiny-taesd" in Image.open(fast.path).text["parameters"]
    atelier.prompt.prompt = "<lora:film:1> boat"
    panel.generate_button.click()
    qtbot.waitUntil(lambda: "no LoRA named 'film'" in panel.notice_text(), timeout=30000)


def test_a_pickle_is_refused_unless_trusted_and_its_payload_never_runs(qtbot, app_paths, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": Exploit()}, evil, pickle_module=pickle)
    atelier = make_atelier(qtbot, app_paths)
    try:
        assert drop(atelier, atelier.window, evil)
        assert "pickle file" in atelier.window.prompt_panel.notice_text() and not atelier.models.jobs
        atelier.models.ask_trust = lambda _parent, _path: True  # the user says yes: weights only, still refused
        qtbot.waitUntil(lambda: atelier.worker_started)
        job = atelier.models.import_file(str(evil))
        qtbot.waitUntil(lambda: job not in atelier.models.jobs, timeout=60000)
        assert "more than plain tensors" in atelier.window.prompt_panel.notice_text()
        assert not marker.exists() and not any(app_paths.models_dir.rglob("*.safetensors"))
    finally:
        atelier.shutdown()


def test_the_welcome_download_opens_the_catalog_and_a_downloaded_model_becomes_usable(
        qtbot, app_paths, tiny_sd15, monkeypatch):
    files = {str(p.relative_to(tiny_sd15)): p.read_bytes() for p in tiny_sd15.rglob("*") if p.is_file()}
    with fake_hub.serve("studio/tiny-sd15", files, {n for n in files if n.endswith(".safetensors")}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)  # what a user behind a mirror sets
        atelier = make_atelier(qtbot, app_paths)
        try:
            assert atelier.welcome.isVisibleTo(atelier.window) and not atelier.models.network.worker._thread.isRunning()
            atelier.welcome.download_button.click()
            window = atelier.models.models_window
            assert window.isVisible() and window.tabs.currentIndex() == 1 and "sd-turbo" in window.download_buttons
            window.repo_edit.setText(hub.repo)
            window.repo_button.click()
            qtbot.waitUntil(lambda: window.progress_label.text().startswith("Downloaded"), timeout=60000)
            panel = atelier.window.prompt_panel
            qtbot.waitUntil(lambda: "studio/tiny-sd15" in model_names(panel), timeout=10000)
            assert not atelier.welcome.isVisibleTo(atelier.window)
        finally:
            atelier.shutdown()


def test_a_folder_added_in_the_window_is_saved_and_scanned(qtbot, app_paths, tiny_sd15, tmp_path):
    library = tmp_path / "a1111-models"
    shutil.copytree(tiny_sd15, library / "mine")
    atelier = make_atelier(qtbot, app_paths)
    try:
        window = atelier.models.open_window()
        window.add_folder(str(library))
        assert Settings.load(app_paths.config_dir / "settings.json").extra_model_dirs == [str(library)]
        assert model_names(atelier.window.prompt_panel) == ["mine"]
        assert [window.table.item(r, 0).text() for r in range(window.table.rowCount())] == ["mine"]
    finally:
        atelier.shutdown()


def test_a_checkpoint_that_does_not_load_says_why(qtbot, app_paths, files):
    (app_paths.models_dir / "checkpoints").mkdir(parents=True)
    shutil.copy(files[0], app_paths.models_dir / "checkpoints")  # tiny weights, the shipped real-size skeleton
    atelier = make_atelier(qtbot, app_paths)
    try:
        notice = atelier.window.prompt_panel.notice
        qtbot.waitUntil(lambda: "Could not load the model" in notice.text(), timeout=60000)
        assert "does not fit the SD 1.x architecture" in notice.text()
    finally:
        atelier.shutdown()
