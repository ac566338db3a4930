"""The Models window with real workers: import by drop, folders, a download from a local fake hub, cancel."""

from __future__ import annotations

from pathlib import Path

import fake_hub
import pytest
import torch
from PySide6.QtCore import QMimeData, QObject, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDropEvent
from safetensors.torch import save_file

from desktop.core.catalog import load_catalog
from desktop.core.messages import Failed
from desktop.core.models import LORA, ModelEntry, discover_models
from desktop.ui.models_window import ModelsWindow, human_time, progress_text
from desktop.worker.download_worker import (DownloadJob, ImportModelJob, make_download_worker, run_import)
from desktop.worker.lane import Worker


class Wiring(QObject):
    """What the composition root does: window requests become jobs, worker messages go back to the window."""

    def __init__(self, window: ModelsWindow, model_lane: Worker, network: Worker, paths, endpoint: str = ""):
        super().__init__()
        self.window, self.model_lane, self.network, self.paths, self.endpoint = window, model_lane, network, paths, endpoint
        window.import_requested.connect(self.on_import_requested)
        window.download_requested.connect(self.on_download_requested)
        window.cancel_requested.connect(network.cancel)
        window.refresh_requested.connect(self.on_refresh)
        model_lane.message.connect(window.on_message)
        network.message.connect(window.on_message)

    @Slot(str)
    def on_import_requested(self, path: str) -> None:
        self.model_lane.submit(ImportModelJob(path, str(self.paths.models_dir), str(self.paths.config_dir / "trust.json")))

    @Slot(str, str)
    def on_download_requested(self, repo_id: str, _catalog_id: str) -> None:
        job = DownloadJob(repo_id, str(self.paths.cache_dir / "hub"), endpoint=self.endpoint)
        self.window.set_download_job(self.network.submit(job))

    @Slot()
    def on_refresh(self) -> None:
        self.window.set_entries(discover_models([self.paths.models_dir], self.paths.cache_dir / "hub"))


@pytest.fixture
def lanes(qtbot):
    model_lane = Worker({ImportModelJob: run_import})
    network = make_download_worker()
    model_lane.start()
    network.start()
    yield model_lane, network
    model_lane.stop()
    network.stop()


def lora_file(folder: Path, name: str = "ink") -> Path:
    path = folder / f"{name}.safetensors"
    save_file({"lora_unet_a_attn2_to_k.lora_down.weight": torch.zeros(4, 768),
               "lora_unet_a_attn2_to_k.lora_up.weight": torch.zeros(8, 4)}, str(path))
    return path


def test_window_lists_entries_and_the_catalog(qtbot):
    entries = [ModelEntry("ink", "/m/ink.safetensors", LORA, "SD 1.x", 1_500_000),
               ModelEntry("half", "/m/half.safetensors", "checkpoint file", problem="half.safetensors is truncated")]
    window = ModelsWindow(entries, load_catalog(), ["/extra"])
    qtbot.addWidget(window)
    assert window.table.rowCount() == 2
    assert [window.table.item(0, c).text() for c in range(6)] == ["ink", "LoRA", "SD 1.x", "1.5 MB", "models folder", "ready"]
    assert window.table.item(1, 5).text() == "half.safetensors is truncated" and "truncated" in window.table.item(1, 0).toolTip()
    assert window.catalog_table.rowCount() == len(load_catalog()) and "sd-turbo" in window.download_buttons
    assert human_time(3725) == "1 h 2 min" and human_time(None) == "estimating…"


def test_dropping_a_file_imports_it_on_the_model_lane(qtbot, lanes, app_paths, tmp_path):
    window = ModelsWindow([], load_catalog(), [])
    qtbot.addWidget(window)
    wiring = Wiring(window, *lanes, app_paths)  # noqa: F841 (kept alive for the test)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(lora_file(tmp_path)))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.model_imported, timeout=30000) as imported:
        window.dropEvent(drop)
    assert imported.args == ["ink"]
    assert (app_paths.models_dir / "loras" / "ink.safetensors").exists()
    qtbot.waitUntil(lambda: window.table.rowCount() == 1)
    assert window.table.item(0, 1).text() == "LoRA"


def test_a_corrupt_file_fails_with_its_message_and_the_window_lives(qtbot, lanes, app_paths, tmp_path):
    window = ModelsWindow([], [], [])
    qtbot.addWidget(window)
    wiring = Wiring(window, *lanes, app_paths)  # noqa: F841
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00\x01")
    window.request_import([str(bad)])
    qtbot.waitUntil(lambda: "Import failed" in window.status.text(), timeout=30000)
    assert "truncated" in window.status.text()
    assert not any(app_paths.models_dir.rglob("*.safetensors"))


def test_folders_added_and_removed_are_announced(qtbot):
    window = ModelsWindow([], [], [])
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.folders_changed) as changed:
        window.add_folder("/data/models")
    assert changed.args == [["/data/models"]]
    window.folder_list.setCurrentRow(0)
    with qtbot.waitSignal(window.folders_changed) as changed:
        window.remove_folder_button.click()
    assert changed.args == [[]]


def test_download_from_a_local_hub_shows_progress_then_lists_the_model(qtbot, lanes, app_paths):
    with fake_hub.serve() as hub:
        window = ModelsWindow([], load_catalog(), [])
        qtbot.addWidget(window)
        wiring = Wiring(window, *lanes, app_paths, endpoint=hub.endpoint)  # noqa: F841
        window.repo_edit.setText(hub.repo)
        window.repo_button.click()
        assert window.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: window.progress_label.text().startswith("Downloaded"), timeout=30000)
        assert window.progress.value() == 1000 and not window.cancel_button.isEnabled()
        snapshot = app_paths.cache_dir / "hub" / "models--studio--tiny-model" / "snapshots" / fake_hub.COMMIT
        assert (snapshot / "unet" / "diffusion_pytorch_model.safetensors").read_bytes() == \
            fake_hub.FILES["unet/diffusion_pytorch_model.safetensors"]


def test_cancel_stops_the_download_and_keeps_the_window_usable(qtbot, lanes, app_paths):
    import threading

    with fake_hub.serve() as hub:
        hub.stop_event = threading.Event()  # the server pauses after the first KiB of a file
        window = ModelsWindow([], load_catalog(), [])
        qtbot.addWidget(window)
        wiring = Wiring(window, *lanes, app_paths, endpoint=hub.endpoint)  # noqa: F841
        window.repo_edit.setText(hub.repo)
        window.repo_button.click()
        qtbot.waitUntil(hub.stop_event.is_set, timeout=30000)
        window.cancel_button.click()
        qtbot.waitUntil(lambda: "cancelled" in window.progress_label.text(), timeout=30000)
        assert window.repo_button.isEnabled()


def test_progress_text_says_bytes_speed_and_time_left():
    from desktop.core.downloads import DownloadProgress

    text = progress_text(DownloadProgress("a/b", 500_000_000, 2_000_000_000, 10_000_000, 150.0, "unet", 1, 4))
    assert text == "500.0 MB of 2.0 GB · 10.0 MB/s · 2 min 30 s left · file 2 of 4"


def test_a_failed_import_message_for_another_job_does_not_touch_the_download(qtbot):
    window = ModelsWindow([], [], [])
    qtbot.addWidget(window)
    window.set_download_job(41)
    window.on_message(Failed(7, "x"))
    assert window.cancel_button.isEnabled() and "Import failed: x" in window.status.text()


def test_a_gguf_shows_its_quantisation_and_its_converted_copy_can_be_dropped(qtbot, tiny_gguf, tmp_path, monkeypatch):
    from desktop.core.gguf_files import gguf_entry
    from desktop.engine.gguf_convert import ensure_converted

    monkeypatch.setenv("ATELIER_GGUF_CACHE", str(tmp_path / "cache"))
    fresh = gguf_entry(tiny_gguf, "models folder")
    ensure_converted(tiny_gguf, 1 << 30)
    converted = gguf_entry(tiny_gguf, "LM Studio")
    window = ModelsWindow([fresh, converted], [], [])
    qtbot.addWidget(window)
    assert window.table.item(0, 6).text() == "GGUF Q8_0 · converted once at first use"
    assert window.table.item(1, 6).text().startswith("GGUF Q8_0 · converted copy ") and converted.cache_bytes > 0
    window.show()

    def click_row(row: int) -> None:
        rect = window.table.visualItemRect(window.table.item(row, 0))
        qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    click_row(0)
    assert not window.drop_cache_button.isEnabled()
    click_row(1)
    assert window.drop_cache_button.isEnabled()
    with qtbot.waitSignal(window.drop_cache_requested) as dropped:
        qtbot.mouseClick(window.drop_cache_button, Qt.MouseButton.LeftButton)
    assert dropped.args == [str(tiny_gguf)]
