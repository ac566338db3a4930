"""The self-test's app checks: the real window and the real worker lane, driven with tiny models.

What a user does first, done by the test: start with no models (the welcome shows), add a model,
press Generate and get pixels on the canvas and a PNG on disk; then img2img, inpaint and SDXL jobs
on the same lane, and one chat reply, so every pipeline family runs once in this installation.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from desktop.core.messages import ChatEnded, ChatJob, Done, GenerateJob, ImageResult, RgbImage

WAIT_S = 120.0  # a slow disk and a cold start of torch take a while; a hang must still end


def _quiet_offscreen_notes(kind, context, message: str) -> None:
    """Qt's offscreen platform notes what it cannot do (window size hints); everything else is shown."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def qt_application():
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        qInstallMessageHandler(_quiet_offscreen_notes)
    app = QApplication.instance() or QApplication(["atelier-selftest"])
    app.setApplicationName("Atelier")
    return app


def wait_until(predicate, what: str, timeout_s: float = WAIT_S) -> None:
    """Run the Qt event loop until predicate() holds; a hang becomes a named failure."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: nothing after {timeout_s:.0f} s")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)


def check_qt(resources: Path) -> str:
    """Qt's image formats (plugins a bundle can lose) and the SVG icon rendered."""
    from PySide6.QtGui import QColor, QImage, QImageReader, QPainter
    from PySide6.QtSvg import QSvgRenderer

    qt_application()
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpg", "webp", "svg"} - formats
    if missing:
        raise ImportError(f"Qt image format plugins missing: {', '.join(sorted(missing))} "
                          "(PySide6/Qt/plugins/imageformats)")
    renderer = QSvgRenderer(str(resources / "icons" / "atelier.svg"))
    if not renderer.isValid():
        raise ValueError("the app icon (atelier.svg) does not render")
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if image.pixelColor(32, 32).alpha() == 0:
        raise ValueError("the app icon rendered empty")
    return f"{len(formats)} image formats, icon renders"


class AppSession:
    """One Atelier window and worker in a scratch home, driven the way a user drives it."""

    def __init__(self, home: Path) -> None:
        from desktop.app import Atelier
        from desktop.core.paths import AppPaths
        from desktop.core.settings import Settings

        qt_application()
        self.paths = AppPaths.default().ensure()
        Settings(width=64, height=64, steps=2, seed=7, seed_locked=True).save(self.paths.config_dir / "settings.json")
        self.atelier = Atelier(paths=self.paths)
        self.atelier.window.show()

    def welcome_on_first_run(self) -> str:
        welcome = getattr(self.atelier, "welcome", None)
        if welcome is None:
            return "no welcome panel wired in this build"
        wait_until(lambda: welcome.isVisible(), "the welcome panel with no models", 10)
        return "shown with no models"

    def add_model_and_generate(self, model: Path) -> str:
        """The model appears in the list, Generate gives pixels on the canvas and a PNG with metadata."""
        from PIL import Image

        target = self.paths.models_dir / model.name
        shutil.copytree(model, target)
        self.atelier.refresh_models(select=str(target))
        prompt, controller = self.atelier.prompt, self.atelier.controller
        errors: list[str] = []
        controller.error.connect(errors.append)
        if prompt.selected_model is None:
            raise LookupError(f"the model copied into {self.paths.models_dir} was not listed")
        welcome = getattr(self.atelier, "welcome", None)
        if welcome is not None and welcome.isVisible():
            raise AssertionError("the welcome panel stayed up after a model was added")
        prompt.prompt = "a lighthouse in a storm"
        self.atelier.window.prompt_panel.generate_button.click()
        wait_until(lambda: controller.results or errors, "the first generation")
        if errors:
            raise RuntimeError(errors[0])
        result = controller.results[0]
        canvas = self.atelier.window.canvas
        if canvas.image is None or (canvas.image.width(), canvas.image.height()) != (64, 64):
            raise AssertionError("no 64x64 picture arrived on the canvas")
        saved = Image.open(result.path)
        if "Steps: 2" not in saved.text.get("parameters", ""):
            raise AssertionError(f"{result.path} lacks its generation parameters")
        wait_until(lambda: controller.idle, "the generation to finish")
        return f"64x64 on the canvas, saved {Path(result.path).name}"

    def run_job(self, job) -> list:
        """Submit a job to the app's engine client and wait for its end; its messages, or the failure it reported."""
        handle = self.atelier.client.submit(job)
        wait_until(lambda: handle.done, type(job).__name__)
        if not isinstance(handle.terminal, Done):
            raise RuntimeError(getattr(handle.terminal, "message", None) or getattr(handle.terminal, "reason", "")
                               or "did not finish")
        return list(handle.received)

    def generate(self, model: Path, family: str, mode: str = "txt2img") -> str:
        from desktop.core.params import GenerationParams

        params = GenerationParams(prompt="a red fox", width=64, height=64, steps=2, seed=3, mode=mode,
                                  scheduler="Euler", strength=0.6)
        init = RgbImage(64, 64, bytes([120, 90, 200]) * 64 * 64) if mode != "txt2img" else None
        mask = bytes([0] * 32 * 64 + [255] * 32 * 64) if mode == "inpaint" else None
        job = GenerateJob(params=params, model_path=str(model), family=family, init_image=init, mask=mask)
        images = [m for m in self.run_job(job) if isinstance(m, ImageResult)]
        if not images or (images[0].image.width, images[0].image.height) != (64, 64):
            raise AssertionError(f"{mode} gave no 64x64 image")
        return f"{family} {mode}: 64x64"

    def chat_reply(self, model: Path) -> str:
        """Through the app's own chat job and store: the reply streams and is saved."""
        store = self.atelier.chat_store
        conversation = store.create_conversation("Atelier self-test", max_new_tokens=8)
        store.add_message(conversation.id, "user", "Say hello.")
        job = ChatJob(conversation.id, str(model), seed=0, use_tools=False)
        ended = [m for m in self.run_job(job) if isinstance(m, ChatEnded)]
        if not ended or ended[0].tokens < 1:
            raise AssertionError("the chat job produced no tokens")
        saved = store.message(ended[0].message_id)
        if saved.role != "assistant" or saved.status != "complete":
            raise AssertionError(f"the reply was saved as {saved.role}/{saved.status}")
        return f"{ended[0].tokens} tokens through the chat job, reply saved"

    def close(self) -> None:
        self.atelier.shutdown()
        self.atelier.window.close()
        self.atelier.window.deleteLater()
