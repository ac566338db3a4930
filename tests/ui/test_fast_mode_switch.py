"""The Fast mode switch in the prompt panel: a click, Generate, the recipe said in the panel and recorded."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPoint, Qt

from desktop.core.settings import Settings
from tiny_checkpoints import write_lora

CHOICE = ("LCM-LoRA (lcm-lora-sdv1-5): LCM, 4 steps, guidance off; deep features reused every 2nd step; "
          "TAESD decode (taesd)")


def test_switch_on_generate_runs_the_recipe_says_it_and_is_kept(qtbot, start_atelier, app_paths, tiny_sd15,
                                                                 tiny_taesd, tmp_path):
    write_lora(tiny_sd15, app_paths.models_dir / "loras" / "lcm-lora-sdv1-5.safetensors")
    atelier = start_atelier({"tiny-sd15": tiny_sd15, "taesd/taesd": tiny_taesd}, steps=25, seed=3)
    panel = atelier.window.prompt_panel
    switch = panel.fast_mode
    assert not switch.on and switch.line.text().startswith("Off")
    qtbot.mouseClick(switch.check, Qt.MouseButton.LeftButton, pos=QPoint(8, switch.check.height() // 2))
    assert switch.on and switch.line.text() == CHOICE  # previewed before anything runs
    qtbot.keyClicks(panel.prompt, "a heron at dawn")
    with qtbot.waitSignal(atelier.controller.image_ready, timeout=120000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    qtbot.waitUntil(lambda: atelier.controller.idle, timeout=20000)
    assert switch.line.text() == CHOICE  # now the lane's own word for this job
    assert (result.params.steps, result.params.scheduler, result.params.fast_recipe) == (4, "LCM", "lcm-lora")
    assert panel.steps.value() == 25  # the panel's own settings are untouched: switch off, and they apply
    text = Image.open(result.path).text["parameters"]
    assert "Steps: 4, Sampler: LCM, CFG scale: 1," in text and "Fast mode: LCM-LoRA" in text
    panel.grab().save(str(tmp_path / "fast-mode-panel.png"))
    atelier.save_settings()
    assert Settings.load(atelier.settings_path).fast_mode is True
    switch.check.setChecked(False)
    assert switch.line.text().startswith("Off") and atelier.prompt.to_params().fast_mode is False


def test_without_a_few_step_lora_the_line_says_what_to_get(qtbot, start_atelier, tiny_sd15):
    atelier = start_atelier({"tiny-sd15": tiny_sd15}, steps=20)
    switch = atelier.window.prompt_panel.fast_mode
    switch.check.setChecked(True)
    assert "no few-step recipe for tiny-sd15" in switch.line.text()
    assert "add an LCM or Hyper-SD LoRA for SD 1.5" in switch.line.text()
