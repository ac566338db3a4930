"""The whole app under qtbot: one way to start Atelier with tiny models installed in a fresh home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop.core.settings import Settings


@pytest.fixture
def start_atelier(qtbot, app_paths):
    """start(models={"folder-name": built_model_path}, show=True, size=None, **settings) -> Atelier.

    Settings default to 64 px with a locked seed (fast, reproducible); unsaved-canvas prompts are
    answered "discard" so no test can hang on a dialog; every app is shut down at teardown.
    """
    from desktop.app import Atelier

    started = []

    def start(models: dict[str, Path], show: bool = True, size: tuple[int, int] | None = (1280, 800), **settings):
        for name, folder in models.items():
            shutil.copytree(folder, app_paths.models_dir / name)
        Settings(**{"width": 64, "height": 64, "seed_locked": True, **settings}).save(
            app_paths.config_dir / "settings.json")
        app = Atelier(paths=app_paths)
        qtbot.addWidget(app.window)
        app.workspace.documents.ask_save_changes = lambda title: "discard"
        if size:
            app.window.resize(*size)
        if show:
            app.window.show()
            qtbot.waitExposed(app.window)
            qtbot.waitUntil(lambda: app.window.panels_arranged)  # docks tabbed and sized after the first show
        started.append(app)
        return app

    yield start
    for app in started:
        app.shutdown()
        app.workspace.documents.document = None  # the window closes at teardown without asking


@pytest.fixture
def workspace(qtbot, app_paths):
    """The real main window with the canvas workspace (no worker: these tests generate nothing)."""
    from desktop.core.recovery import recovery_folder
    from desktop.ui.canvas.workspace import CanvasWorkspace
    from desktop.ui.main_window import MainWindow

    window = MainWindow()
    settings_path = app_paths.config_dir / "settings.json"
    workspace = CanvasWorkspace(window, Settings(), settings_path, recovery_folder(app_paths.data_dir))
    qtbot.addWidget(window)
    window.resize(1000, 720)
    window.show()
    qtbot.waitExposed(window)
    yield workspace
    workspace.shutdown()
    workspace.documents.document = None  # the window closes at teardown without asking
