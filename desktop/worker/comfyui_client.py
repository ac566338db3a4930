"""A ComfyUI server as an image engine: the same client protocol as this computer, on a lane of its own.

The lane owns the network connection, so queueing, cancel and "exactly one Done, Cancelled or Failed
per job" behave as for local jobs, and the window never waits for the network. Stopping never blocks
the window either: a lane still inside a request to a silent server is left to end by its own timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject

from desktop.core.server_address import ServerAddress
from desktop.worker.client import EngineClient
from desktop.worker.comfyui_jobs import CONNECTION_KEY, comfyui_handlers
from desktop.worker.lane import Worker

_retiring: set = set()  # stopped clients whose lane is still finishing a request (kept alive until it ends)


class ComfyUIClient(EngineClient):
    """Runs GenerateJob (and ServerModelsJob) on a ComfyUI server."""

    def __init__(self, address: ServerAddress, outputs_dir: Callable[[], Path], parent: QObject | None = None) -> None:
        super().__init__(Worker(comfyui_handlers(address, outputs_dir)), f"ComfyUI at {address.url}", parent)
        self.worker.setParent(self)
        self.address = address

    def stop(self, wait_ms: int = 0) -> None:
        """Cancel everything; the lane ends after its current request (each has a timeout) without blocking."""
        self.worker.stop(wait_ms)
        thread = self.worker._thread
        if thread.isRunning():
            self.setParent(None)  # outlive the dialog or window that made it, until the lane ends
            _retiring.add(self)
            thread.finished.connect(self._retired)
        else:
            self._close_connection()

    def _retired(self) -> None:
        self._close_connection()
        _retiring.discard(self)

    def _close_connection(self) -> None:
        connection = self.worker.resources.pop(CONNECTION_KEY, None)
        if connection is not None:
            connection.close()
