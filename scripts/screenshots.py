"""Screenshots of every view of Atelier at 1280x800 and 1920x1080, for the README and for reviews.

    .venv/bin/python scripts/screenshots.py [--out resources/screenshots]

Offline and repeatable: the app runs headless (Qt offscreen, a screen of the shot's size) with tiny
random-weight models built on the spot, so generated pictures are coloured noise. Everything else is
the real window: real generations on the model lane, the real gallery, chat, Models window and dialogs.
PNGs are reduced to 256 colours to stay small.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((1280, 800), (1920, 1080))
CHAT = [
    ("user", "Ideas for a quiet painting? Something with a heron."),
    ("assistant", "Three directions, each calm in its own way:\n\n1. **Ink wash**: a lone heron in morning fog, "
                  "grey on grey.\n2. **Watercolour**: reeds at dusk, soft orange light.\n3. **Woodblock**: a heron "
                  "mid-step, flat colours.\n\n```prompt\na lone heron standing in morning fog, ink wash painting, "
                  "muted greys, minimal\n```\n"),
    ("user", "Use the first one, and make it wide."),
    ("assistant", "Done: the prompt is set, and a wide canvas suits the empty fog.\n"
                  '<tool_call>{"name": "set_prompt", "arguments": {"prompt": "a lone heron standing in morning fog, '
                  'ink wash painting, muted greys, minimal"}}</tool_call>\n'
                  '<tool_call>{"name": "set_size", "arguments": {"width": 768, "height": 512}}</tool_call>'),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    parser.add_argument("--size", help="one size, WxH (the script runs itself once per size)")
    parser.add_argument("--models", type=Path, help="a folder of tiny models already built")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.size:
        width, height = (int(n) for n in args.size.split("x"))
        return shoot(width, height, args.out, args.models)
    with tempfile.TemporaryDirectory(prefix="atelier-shots-") as scratch:
        models = Path(scratch) / "models"
        build_models(models)
        for width, height in SIZES:
            screen = Path(scratch) / f"screen-{width}.json"
            screen.write_text(json.dumps({"screens": [{"name": "shot", "x": 0, "y": 0, "width": width,
                                                       "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                       "dpr": 1}]}))
            env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}", HF_HUB_OFFLINE="1")
            subprocess.run([sys.executable, __file__, "--size", f"{width}x{height}", "--out", str(args.out),
                            "--models", str(models)], env=env, check=True)
    return 0


def build_models(folder: Path) -> None:
    from desktop.engine import tiny_models

    tiny_models.build_sd15(folder / "tiny-sd15")
    tiny_models.build_chat_lm(folder / "tiny-chat")


def shoot(width: int, height: int, out: Path, models: Path) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Atelier")
    shots = Shots(width, height, out)
    with tempfile.TemporaryDirectory(prefix="atelier-home-") as home:
        first_run = start(Path(home) / "first-run", models=None)
        shots.window(first_run, "welcome")
        first_run.shutdown()
        atelier = start(Path(home) / "studio", models)
        shots.all_views(atelier)
        atelier.shutdown()
    return 0


def start(home: Path, models: Path | None):
    os.environ["ATELIER_HOME"] = str(home)
    os.environ["HF_HUB_CACHE"] = str(home / "hf-cache")
    from desktop.app import Atelier
    from desktop.core.paths import AppPaths
    from desktop.core.settings import Settings

    paths = AppPaths.default().ensure()
    if models is not None:
        for name in ("tiny-sd15", "tiny-chat"):
            shutil.copytree(models / name, paths.models_dir / name)
    Settings(width=128, height=128, steps=4, seed=7, seed_locked=True).save(paths.config_dir / "settings.json")
    atelier = Atelier(paths=paths)
    atelier.start_worker()
    return atelier


def wait(condition, seconds: float = 120.0) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(frames: int = 30) -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(frames):
        QApplication.processEvents()
        time.sleep(0.01)


class Shots:
    """Shows each view in the real window and saves it as <view>-<width>.png."""

    def __init__(self, width: int, height: int, out: Path) -> None:
        self.width, self.height, self.out = width, height, out

    def save(self, widget, view: str) -> None:
        from PIL import Image
        from PySide6.QtCore import QBuffer, QIODevice

        settle()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        widget.grab().save(buffer, "PNG")
        path = self.out / f"{view}-{self.width}.png"
        from io import BytesIO

        with Image.open(BytesIO(bytes(buffer.data()))) as image:
            image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                path, optimize=True)
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} KB")

    def window(self, atelier, view: str) -> None:
        window = atelier.window
        window.resize(self.width, self.height)
        window.show()
        wait(lambda: window.panels_arranged)
        self.save(window, view)

    def all_views(self, atelier) -> None:
        window, panel = atelier.window, atelier.window.prompt_panel
        window.resize(self.width, self.height)
        window.show()
        wait(lambda: window.panels_arranged)
        # a generation on the real lane: the picture lands on the canvas as a layer, and in the gallery
        for prompt in ("a harbour at night, oil painting", "a red fox in the snow",
                       "a lone heron standing in morning fog, ink wash painting, muted greys, minimal"):
            panel.prompt.setPlainText(prompt)
            panel.batch.setValue(2)  # two each: the gallery gets a full grid
            done = []
            atelier.controller.image_ready.connect(done.append)
            panel.request_generate()
            wait(lambda: len(done) == 2 and atelier.controller.idle)
            atelier.controller.image_ready.disconnect(done.append)
        self.save(window, "main-window")
        self.canvas(atelier)
        self.chat(atelier)
        self.gallery(atelier)
        self.models(atelier)
        self.dialogs(atelier)
        self.prompt_advanced(atelier)
        self.settings_dialogs(atelier)
        self.upscale(atelier)
        self.steering(atelier)
        atelier.theme_actions["light"].trigger()
        atelier.chat.dock.raise_()
        self.save(window, "main-window-light")
        atelier.theme_actions["system"].trigger()

    def canvas(self, atelier) -> None:
        """Layers (a painted one over the generations), a painted inpaint mask (pink) and a selection."""
        import numpy as np

        from desktop.core.document import Layer
        from desktop.core.edits import AddLayer, SetMask, SetSelection
        from desktop.core.geometry import Rect

        document = atelier.workspace.document
        ys, xs = np.mgrid[0:document.height, 0:document.width]
        sky = np.zeros((document.height, document.width, 4), np.uint8)
        sky[..., 0], sky[..., 1], sky[..., 2] = 40 + ys, 70 + ys // 2, 140 + ys // 3
        sky[..., 3] = np.where(ys < document.height // 2, 255, 0)
        document.history.do(AddLayer(Layer("Sky (painted)", sky)))
        mask = (((xs - 80) ** 2 + (ys - 88) ** 2) < 26 ** 2).astype(np.uint8) * 255
        document.history.do(SetMask(mask, "Paint mask"))
        document.history.do(SetSelection(Rect(16, 48, 96, 64)))
        atelier.workspace.layers_dock.raise_()
        self.save(atelier.window, "canvas")
        document.history.undo()  # the selection, the mask and the layer go again (the history panel shows them)
        document.history.undo()
        document.history.undo()

    def chat(self, atelier) -> None:
        store, panel = atelier.chat_store, atelier.chat.panel
        conversation = store.create_conversation("A heron in the fog", model="tiny-chat")
        for role, text in CHAT:
            store.add_message(conversation.id, role, text)
        panel.open_conversation(conversation.id)
        first_card = panel.view.widgets[-1].tool_cards[0]
        first_card.approve_button.click()
        atelier.chat.dock.raise_()
        self.save(atelier.window, "chat")

    def gallery(self, atelier) -> None:
        dock = atelier.gallery.dock
        dock.raise_()
        wait(lambda: dock.model.rowCount() >= 6)
        dock.view.setCurrentIndex(dock.model.index(0))
        self.save(atelier.window, "gallery")
        atelier.chat.dock.raise_()

    def models(self, atelier) -> None:
        models = atelier.models.open_window()
        models.resize(min(900, self.width - 80), min(520, self.height - 120))
        self.save(models, "models")
        models.close()

    def dialogs(self, atelier) -> None:
        from PySide6.QtWidgets import QFileDialog

        from desktop.ui import file_dialog
        from desktop.ui.canvas import dialogs
        from desktop.ui.shortcuts_dialog import ShortcutsDialog

        window = atelier.window
        new = dialogs.NewCanvasDialog(250, 512, window)
        new.width_box.setValue(250)
        new.accept()  # shows the snap notice, stays open
        new.show()
        self.save(new, "dialog-new-canvas")
        new.close()
        shortcuts = ShortcutsDialog(window.shortcut_table(), window)
        shortcuts.show()
        self.save(shortcuts, "dialog-shortcuts")
        shortcuts.close()
        files = file_dialog.make_dialog(window, "Open image or project", atelier.outputs_dir(), dialogs.OPEN_FILTER)
        files.setFileMode(QFileDialog.FileMode.ExistingFile)
        files.show()
        self.save(files, "dialog-open")
        files.close()
        question = dialogs.save_changes_box(window, atelier.workspace.document.title)
        question.show()
        self.save(question, "dialog-unsaved")
        question.close()

    def prompt_advanced(self, atelier) -> None:
        """The prompt panel with Advanced open, the hires fix on and a notice: nothing may need a scrollbar."""
        window, panel = atelier.window, atelier.window.prompt_panel
        panel.advanced_toggle.setChecked(True)
        panel.hires.enabled.setChecked(True)
        window.show_error("Width 250 is not a multiple of 8: it was snapped to 248")
        self.save(window, "prompt-advanced")
        panel.show_notice("")
        window.statusBar().clearMessage()
        panel.hires.enabled.setChecked(False)
        panel.advanced_toggle.setChecked(False)

    def settings_dialogs(self, atelier) -> None:
        """Settings > Image Engine…, Chat Engine… and Model Folders… as the menu opens them."""
        home = Path(os.environ["ATELIER_HOME"])
        comfy = home / "ComfyUI" / "models"  # a linked folder in use, and one on a drive that is not plugged in
        for name in ("checkpoints", "loras", "vae", "upscale_models"):
            (comfy / name).mkdir(parents=True, exist_ok=True)
        atelier.settings.extra_model_dirs = [str(comfy.parent), "/media/usb-drive/sd-models"]
        menu = next(m for name, m in atelier.window.menus.items() if name.replace("&", "") == "Settings")
        for view, action, opened in (("dialog-image-engine", "Image Engine…", lambda: atelier.image_engine.dialog),
                                     ("dialog-chat-engine", "Chat Engine…", lambda: atelier.connections.engine_dialog),
                                     ("dialog-model-folders", "Model Folders…",
                                      lambda: atelier.connections.folders_dialog)):
            next(a for a in menu.actions() if a.text().replace("&", "") == action).trigger()
            dialog = opened()
            self.save(dialog, view)
            dialog.reject()
        atelier.settings.extra_model_dirs = []

    def steering(self, atelier) -> None:
        """Layer > Steer > Use as Region…: the steering dialog over the window."""
        atelier.steering.actions["region"].trigger()
        dialog = atelier.steering.dialog
        dialog.prompt.setPlainText("a heron standing in the reeds")
        self.save(dialog, "dialog-steering-region")
        dialog.reject()
        atelier.steering.actions["control"].trigger()
        dialog = atelier.steering.dialog
        wait(lambda: not dialog.preview.pixmap().isNull() or bool(dialog.note.text()), 60)
        self.save(dialog, "dialog-steering-control")
        dialog.reject()

    def upscale(self, atelier) -> None:
        atelier.upscale.open_dialog()
        dialog = atelier.upscale.dialog
        self.save(dialog, "dialog-upscale")
        dialog.reject()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
