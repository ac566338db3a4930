"""A ComfyUI server as an image engine: the same client protocol as this computer, on a lane of its own.

The lane owns the network connection, so queueing, cancel and "exactly one Done, Cancelled or Failed
per job" behave as for local jobs, and the window never waits for the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject

from desktop.core.server_address import ServerAddress
from desktop.worker.client import EngineClient
from desktop.worker.comfyui_jobs import CONNECTION_KEY, comfyui_handlers
from desktop.worker.lane import Worker


class ComfyUIClient(EngineClient):
    """Runs GenerateJob (and ServerModelsJob) on a ComfyUI server."""

    def __init__(self, address: ServerAddress, outputs_dir: Callable[[], Path], parent: QObject | None = None) -> None:
        worker = Worker(comfyui_handlers(address, outputs_dir))
        super().__init__(worker, f"ComfyUI at {address.url}", parent)
        worker.setParent(self)
        self.address = address

    def stop(self) -> None:
        super().stop()
        connection = self.worker.resources.pop(CONNECTION_KEY, None)
        if connection is not None:
            connection.close()
