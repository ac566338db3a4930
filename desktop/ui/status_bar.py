"""Keeps the status bar's device, model and timing labels up to date from the client's status messages."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from desktop.core.messages import Status


class StatusBridge(QObject):
    """Receives `EngineClient.status` (messages of no job) and updates the window's permanent labels."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window

    @Slot(object)
    def on_message(self, message) -> None:
        if isinstance(message, Status):
            if message.device:
                self.window.device_label.setText(f"Device: {message.device}")
                self.window.device_label.setToolTip(message.text)  # why this device, dtype and strategy
            if message.model:
                self.window.model_label.setText(f"Model: {message.model}")
            self.window.show_status(message.text)

    @Slot(float)
    def on_generation_done(self, seconds: float) -> None:
        self.window.timing_label.setText(f"Last image: {seconds:.1f} s")
