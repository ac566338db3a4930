"""The gallery dock with qtbot, built from a real index over real files (no window needed)."""

from __future__ import annotations

import os

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from desktop.core.gallery_index import GalleryIndex
from desktop.core.models import ModelEntry
from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams
from desktop.core.reproduction import compare_pixels
from desktop.core.thumbnails import ThumbnailCache
from desktop.ui.gallery_dock import GalleryDock, since_for
from desktop.ui.gallery_model import PAGE
from desktop.ui.prompt_panel import PromptPanel
from tests.core.metadata_samples import comfy_default_graph, comfy_png

PROMPTS = ["a red fox in the snow", "a blue whale", "red lighthouse at dusk", "portrait of a fox"]


def _params(seed: int, prompt: str) -> GenerationParams:
    return GenerationParams(prompt=prompt, negative_prompt="blurry", model="tiny-sd15" if seed % 2 == 0 else "other",
                            width=64, height=64, steps=4, guidance=6.5, scheduler="DPM++ 2M Karras", seed=seed)


@pytest.fixture
def outputs(tmp_path):
    folder = tmp_path / "outputs"
    for seed, prompt in enumerate(PROMPTS):
        save_generation(Image.new("RGB", (64, 64), (seed * 50, 80, 120)), _params(seed, prompt), folder,
                        model_name=_params(seed, prompt).model)
    return folder


@pytest.fixture
def dock(qtbot, tmp_path, outputs):
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    dock = GalleryDock(index, ThumbnailCache(tmp_path / "thumbs"))
    qtbot.addWidget(dock)
    dock.resize(420, 700)
    dock.show()
    yield dock
    dock.model.wait_for_background()


def _select(dock, row: int) -> None:
    dock.view.setCurrentIndex(dock.model.index(row))


def test_shows_every_output_newest_first_with_thumbnails(dock, qtbot):
    assert dock.model.rowCount() == 4 and dock.count_label.text() == "4 images"
    assert [dock.model.entry(r).prompt for r in range(4)] == list(reversed(PROMPTS))
    qtbot.waitUntil(lambda: len(dock.model._icons) == 4, timeout=10_000)  # drawn rows asked for thumbnails
    thumbs = list((dock.model.thumbnails.cache_dir).glob("*/*.jpg"))
    assert len(thumbs) == 4


def test_search_model_and_favourite_filters(dock, qtbot):
    qtbot.keyClicks(dock.search, "fox")
    qtbot.waitUntil(lambda: dock.model.rowCount() == 2, timeout=3000)
    dock.model_filter.setCurrentIndex(dock.model_filter.findData("tiny-sd15"))
    assert [dock.model.entry(r).prompt for r in range(dock.model.rowCount())] == ["a red fox in the snow"]
    dock.search.clear()
    dock.model_filter.setCurrentIndex(0)
    dock._apply_filters()
    _select(dock, 1)
    qtbot.mouseClick(dock.buttons["favourite"], Qt.MouseButton.LeftButton)
    assert dock.buttons["favourite"].text() == "★"
    dock.favourites_only.setChecked(True)
    assert dock.model.rowCount() == 1 and dock.model.entry(0).prompt == PROMPTS[2]
    dock.date_filter.setCurrentIndex(dock.date_filter.findText("Today"))
    assert dock.model.rowCount() == 1
    assert since_for(7 * 86_400, now=1_000_000.0) == 1_000_000.0 - 7 * 86_400


def test_reuse_settings_restores_the_prompt_panel_exactly(dock, qtbot):
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.model.set_models([ModelEntry("tiny-sd15", "/m/a", "checkpoint", "SD 1.x"),
                            ModelEntry("other", "/m/b", "checkpoint", "SD 1.x")])
    dock.reuse_settings.connect(panel.model.set_params)
    _select(dock, 1)  # "red lighthouse at dusk", seed 2
    assert "red lighthouse at dusk" in dock.details.toPlainText() and "Atelier" in dock.details.toPlainText()
    with qtbot.waitSignal(dock.reuse_settings):
        qtbot.mouseClick(dock.buttons["reuse"], Qt.MouseButton.LeftButton)
    assert panel.model.to_params() == _params(2, PROMPTS[2])
    assert dock.status.text() == "Settings restored."


def test_open_layer_and_reproduce_signals(dock, qtbot):
    _select(dock, 0)
    path = dock.model.entry(0).path
    centre = dock.view.visualRect(dock.model.index(0)).center()
    with qtbot.waitSignal(dock.open_on_canvas) as opened:
        qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # a press starts a double-click
        qtbot.mouseDClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args == [path]
    with qtbot.waitSignal(dock.add_as_layer) as layered:
        dock.buttons["layer"].click()
    assert layered.args == [path]
    with qtbot.waitSignal(dock.reproduce) as reproduced:
        dock.buttons["reproduce"].click()
    params, target = reproduced.args
    assert params == _params(3, PROMPTS[3]) and target == path
    # the window regenerates; here the same pixels stand in for a deterministic pipeline
    dock.show_reproduction(compare_pixels(target, Image.open(target)))
    assert dock.status.text().startswith("Reproduced exactly")
    changed = Image.open(target).convert("RGB")
    changed.putpixel((0, 0), (255, 255, 255))
    dock.show_reproduction(compare_pixels(target, changed))
    assert "Close but not identical" in dock.status.text()


def test_delete_sends_to_trash_and_moves_on(dock, tmp_path, monkeypatch):
    from send2trash import plat_other

    trash = tmp_path / "xdg"
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(trash))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(trash / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(trash / "Trash"))
    _select(dock, 0)
    doomed = dock.current_path
    dock.buttons["delete"].click()
    assert not os.path.exists(doomed) and dock.model.rowCount() == 3
    assert dock.current_path == dock.model.entry(0).path and "trash" in dock.status.text()


def test_files_from_other_tools_are_inspected_and_reused(dock, qtbot, tmp_path):
    outside = comfy_png(tmp_path / "ComfyUI_00001_.png", comfy_default_graph(seed=1234))
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(outside))])
    body = dock.widget()
    drop = QDropEvent(QPoint(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    body.dropEvent(drop)
    assert "ComfyUI" in dock.details.toPlainText() and "beautiful scenery" in dock.details.toPlainText()
    assert not dock.buttons["delete"].isEnabled() and dock.buttons["reuse"].isEnabled()
    with qtbot.waitSignal(dock.reuse_settings) as reused:
        dock.buttons["reuse"].click()
    params = reused.args[0]
    assert (params.prompt, params.seed, params.scheduler, params.loras) == (
        "beautiful scenery, glass bottle", 1234, "DPM++ 2M Karras", (("film_grain", 0.7),))
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    info = dock.inspect_file(plain)
    assert not info.found and "no generation data found" in dock.details.toPlainText()
    assert not dock.buttons["reuse"].isEnabled()


def test_refresh_picks_up_files_added_outside_the_app(dock, qtbot, outputs):
    save_generation(Image.new("RGB", (64, 64)), _params(9, "a new owl"), outputs, model_name="owl-model")
    with qtbot.waitSignal(dock.model.synced, timeout=10_000):
        dock.refresh()
    assert dock.model.rowCount() == 5 and dock.model.entry(0).prompt == "a new owl"
    assert dock.model_filter.findData("owl-model") > 0 and "1 new" in dock.count_label.toolTip()


def test_only_rows_on_screen_are_read(qtbot, tmp_path):
    folder = tmp_path / "many"
    tile = Image.new("RGB", (8, 8))
    for seed in range(PAGE + 10):
        save_generation(tile, GenerationParams(prompt=f"tile {seed}", seed=seed, width=64, height=64), folder,
                        model_name="m", path=folder / f"{seed:05d}-{seed}.png")
    index = GalleryIndex(tmp_path / "g.db", folder)
    index.sync()
    dock = GalleryDock(index, ThumbnailCache(tmp_path / "thumbs"))
    qtbot.addWidget(dock)
    dock.resize(420, 600)
    dock.show()
    qtbot.waitExposed(dock)
    qtbot.wait(50)
    assert dock.model.rowCount() == PAGE + 10
    requested = len(dock.model._icons) + len(dock.model._pending)
    assert 0 < requested < 60  # thumbnails only for what is on screen, not for all 210 rows
    dock.view.scrollToBottom()
    qtbot.wait(50)
    assert len(dock.model._pages) <= 2
    dock.model.wait_for_background()


def test_a_search_that_hides_the_selected_image_clears_its_details_and_buttons(dock, qtbot):
    _select(dock, 0)
    assert dock.buttons["open"].isEnabled() and dock.buttons["reproduce"].isEnabled()
    qtbot.keyClicks(dock.search, "no such picture")
    qtbot.waitUntil(lambda: dock.model.rowCount() == 0, timeout=3000)
    assert dock.count_label.text() == "0 images"
    assert not any(button.isEnabled() for name, button in dock.buttons.items() if name != "inspect")
    assert dock.details.toPlainText() == ""
    dock.search.clear()  # the image comes back unselected; choosing it again enables its buttons
    qtbot.waitUntil(lambda: dock.model.rowCount() == 4, timeout=3000)
    assert not dock.buttons["open"].isEnabled()
    _select(dock, 0)
    assert dock.buttons["open"].isEnabled()
