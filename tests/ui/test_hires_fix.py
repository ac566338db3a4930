"""Hires fix from the prompt panel: one job, one progress bar, previews from both passes, the larger picture."""

from PIL import Image
from PySide6.QtCore import Qt


def test_hires_fix_makes_the_larger_picture_as_one_job(start_atelier, qtbot, tiny_sd15):
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, steps=4, seed=3)
    panel, canvas = atelier.window.prompt_panel, atelier.window.canvas
    assert [panel.hires.upscaler.itemText(i) for i in range(3)] == ["Latent", "Lanczos", "realesrgan-x4plus"]
    assert not panel.hires.scale.isEnabled()
    qtbot.mouseClick(panel.hires.enabled, Qt.MouseButton.LeftButton)
    assert panel.hires.scale.isEnabled()
    panel.hires.scale.setValue(2.0)
    panel.hires.strength.setValue(0.5)
    previews, progress = [], []
    original = canvas.set_preview
    canvas.set_preview = lambda image, target=None: (previews.append(image.width()), original(image, target))
    original_progress = panel.set_progress
    panel.set_progress = lambda step, total, eta: (progress.append((step, total)), original_progress(step, total, eta))
    qtbot.keyClicks(panel.prompt, "a lighthouse")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=120000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=10000)
    result = blocker.args[0]
    document = atelier.workspace.documents.document
    assert (document.width, document.height) == (128, 128)  # the canvas is made at the final size
    assert document.layers[-1].pixels.shape[:2] == (128, 128)
    assert previews[:4] == [8, 8, 8, 8] and previews[4:] == [16, 16]  # first pass 64 px, then 128 px
    totals = {total for _step, total in progress if total}
    assert totals == {7}  # one bar: 4 steps + the upscale + int(4 * 0.5) refine steps
    assert [step for step, _ in progress if step] == sorted(step for step, _ in progress if step)
    text = Image.open(result.path).text["parameters"]
    assert "Size: 64x64" in text and "Hires upscale: 2, Hires upscaler: Latent" in text
    assert Image.open(result.path).size == (128, 128)
    atelier.window.grab().save(str(result.path) + ".window.png")
