"""End to end through the real window: type a prompt, click Generate, see pixels; Esc cancels."""


import pytest
from PIL import Image
from PySide6.QtCore import Qt



@pytest.fixture
def app_with_model(start_atelier, tiny_sd15):
    return start_atelier({"tiny-sd15": tiny_sd15}, steps=3, seed=42)

def test_prompt_to_pixels_on_the_canvas_and_a_png_with_parameters(qtbot, app_with_model, app_paths):
    atelier = app_with_model
    panel, canvas = atelier.window.prompt_panel, atelier.window.canvas
    previews = []
    original = canvas.set_preview
    canvas.set_preview = lambda image, target=None: (previews.append(image.size()), original(image, target))
    qtbot.keyClicks(panel.prompt, "a lighthouse in a storm")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    assert len(previews) == 3 and previews[0].width() == 8
    assert canvas.image is not None and canvas.image.width() == 64 and canvas.preview is None
    assert canvas.image.pixelColor(10, 10).name() == _png_pixel(result.path, 10, 10)
    text = Image.open(result.path).text["parameters"]
    assert text.startswith("a lighthouse in a storm\n")
    assert "Steps: 3" in text and "Seed: 42" in text and "Size: 64x64" in text
    assert result.path.startswith(str(app_paths.outputs_dir))
    assert "Step 3/3" not in panel.progress.format() and panel.progress.format() == "Idle"


def _png_pixel(path, x, y):
    r, g, b = Image.open(path).convert("RGB").getpixel((x, y))
    return f"#{r:02x}{g:02x}{b:02x}"


def test_escape_mid_run_cancels_and_the_app_is_ready_at_once(qtbot, app_with_model):
    atelier = app_with_model
    panel = atelier.window.prompt_panel
    atelier.prompt.steps = 150
    panel.generate_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= 1 and panel.cancel_button.isEnabled(), timeout=60000)
    qtbot.keyClick(atelier.window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    assert not panel.cancel_button.isEnabled() and panel.progress.format() == "Idle"
    assert atelier.controller.results == []
    atelier.prompt.steps = 2
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000):
        panel.generate_button.click()


def test_several_presses_queue_up_and_can_be_cleared(qtbot, app_with_model):
    atelier = app_with_model
    panel = atelier.window.prompt_panel
    atelier.prompt.steps = 150
    for _ in range(3):
        qtbot.keyClick(panel.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.queue_label.text() == "2 waiting in queue", timeout=60000)
    assert panel.clear_button.isEnabled()
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.queue_label.text() == "", timeout=5000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)


def test_without_a_model_the_window_says_how_to_add_one(qtbot, app_paths):
    from desktop.app import Atelier

    atelier = Atelier(paths=app_paths)
    qtbot.addWidget(atelier.window)
    panel = atelier.window.prompt_panel
    assert "No model yet" in panel.model_hint.text() and str(app_paths.models_dir) in panel.model_hint.text()
    assert not panel.model_box.isEnabled()
    atelier.window.show()
    assert atelier.welcome.isVisible()  # the first-run welcome over the empty canvas
    assert str(app_paths.models_dir) in atelier.welcome.where_label.text()
    panel.generate_button.click()
    assert "choose a model" in panel.notice_text()
    atelier.shutdown()


def test_bad_size_typed_in_the_panel_is_snapped_with_a_notice(qtbot, app_with_model):
    panel = app_with_model.window.prompt_panel
    panel.width_box.lineEdit().selectAll()
    qtbot.keyClicks(panel.width_box, "500")
    qtbot.keyClick(panel.width_box, Qt.Key.Key_Return)
    assert panel.width_box.value() == 504 and app_with_model.prompt.width == 504
    assert "snapped to 504" in panel.notice_text()


def test_unlocked_each_press_uses_the_seed_it_shows_lock_keeps_it_and_a_batch_counts_up(qtbot, start_atelier,
                                                                                        tiny_sd15):
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, steps=2, seed=7, seed_locked=False)
    panel, controller = atelier.window.prompt_panel, atelier.controller
    qtbot.waitUntil(lambda: controller.idle, timeout=60000)  # the model's preload
    assert panel.seed.text() == "7" and not panel.lock.isChecked()  # the last seed, as it was left
    qtbot.keyClicks(panel.prompt, "a paper boat")
    with qtbot.waitSignal(controller.image_ready, timeout=60000) as made:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
        shown = int(panel.seed.text())  # a fresh seed, shown as soon as the job is queued
    assert shown != 7 and made.args[0].params.seed == shown
    assert f"Seed: {shown}," in Image.open(made.args[0].path).text["parameters"]
    qtbot.waitUntil(lambda: controller.idle, timeout=10000)
    assert panel.seed.text() == str(shown)  # still the seed of the image made last
    qtbot.mouseClick(panel.lock, Qt.MouseButton.LeftButton)  # keep THAT one
    with qtbot.waitSignal(controller.image_ready, timeout=60000) as again:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert again.args[0].params.seed == shown and panel.seed.text() == str(shown)
    qtbot.waitUntil(lambda: controller.idle, timeout=10000)
    qtbot.mouseClick(panel.lock, Qt.MouseButton.LeftButton)
    atelier.prompt.batch_size = 3
    before = len(controller.results)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    first = int(panel.seed.text())
    assert first != shown and panel.seed_note.text() == f"3 images, seeds {first}–{first + 2}"
    qtbot.waitUntil(lambda: controller.idle and len(controller.results) == before + 3, timeout=60000)
    assert [r.params.seed for r in controller.results[before:]] == [first, first + 1, first + 2]


def test_the_first_model_load_shows_loading_and_cancel_stops_it(qtbot, start_atelier, tiny_sd15, monkeypatch):
    import threading

    from desktop.engine import pipeline

    release, real_load = threading.Event(), pipeline.ImageEngine.load

    def slow_load(engine, *args, **kwargs):  # a real load that waits, as a multi-GB one does, until the test says
        release.wait(30)
        return real_load(engine, *args, **kwargs)

    monkeypatch.setattr(pipeline.ImageEngine, "load", slow_load)
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, steps=2)
    panel, controller = atelier.window.prompt_panel, atelier.controller
    qtbot.waitUntil(lambda: panel.progress.format().startswith("Loading tiny-sd15"), timeout=10000)
    assert panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)  # waits behind the load
    assert panel.queue_label.text() == "1 waiting in queue" and panel.progress.format().startswith("Loading")
    qtbot.keyClick(atelier.window, Qt.Key.Key_Escape)  # stops the load, not the waiting generation
    assert panel.progress.format().startswith("Cancelling")
    release.set()
    with qtbot.waitSignal(controller.image_ready, timeout=60000):
        pass
    qtbot.waitUntil(lambda: controller.idle, timeout=10000)
    assert panel.progress.format() == "Idle" and not panel.cancel_button.isEnabled()


def test_a_long_notice_never_pushes_generate_away_nor_adds_scrollbars_and_goes_when_stale(qtbot, start_atelier,
                                                                                          tiny_sd15):
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, steps=2, size=(1280, 800))
    window, panel = atelier.window, atelier.window.prompt_panel

    def in_view(widget) -> bool:
        bottom = widget.mapTo(window, widget.rect().bottomRight())
        return widget.isVisible() and bottom.y() <= window.height()

    qtbot.waitUntil(lambda: in_view(panel.progress), timeout=5000)
    assert not panel.scroll.verticalScrollBar().isVisible()  # the panel fits 1280x800
    window.show_error("The model could not load: " + "a very long reason that goes on " * 30)
    qtbot.wait(50)
    lines = panel.notice.height() / panel.notice.fontMetrics().lineSpacing()
    assert in_view(panel.generate_button) and in_view(panel.progress) and in_view(panel.notice) and lines <= 3.5
    assert not panel.scroll.verticalScrollBar().isVisible()
    qtbot.mouseClick(panel.advanced_toggle, Qt.MouseButton.LeftButton)  # guidance, sampler, VAE: still no scrolling
    qtbot.waitUntil(lambda: panel.guidance.isVisible(), timeout=2000)
    qtbot.wait(50)
    assert in_view(panel.progress) and not panel.scroll.verticalScrollBar().isVisible()
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=60000)
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=60000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.notice_text() == "" and not panel.notice.isVisible()  # the press was accepted: the old notice goes


def test_the_prompt_comes_back_after_a_restart(qtbot, start_atelier, app_paths):
    from desktop.app import Atelier

    atelier = start_atelier({})
    panel = atelier.window.prompt_panel
    qtbot.keyClicks(panel.prompt, "a lighthouse at dusk")
    qtbot.keyClicks(panel.negative, "fog")
    atelier.save_settings()  # what quitting does (run_app connects it to aboutToQuit)
    atelier.shutdown()
    again = Atelier(paths=app_paths)
    qtbot.addWidget(again.window)
    try:
        shown = again.window.prompt_panel
        assert (shown.prompt.toPlainText(), shown.negative.toPlainText()) == ("a lighthouse at dusk", "fog")
    finally:
        again.shutdown()
