"""Keeps Generate and the size honest about what the canvas can run now.

The size a job runs at is the prompt model's: with a selection, or in a mode that reads the canvas, the
area sets it (the Size fields show it, read-only); text to image with no selection takes the size the
user gives (it starts as the canvas's), so Reuse settings of a 512x768 image makes a 512x768 job.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from desktop.core.document import Change, Document, EditError
from desktop.ui.canvas.generation_plan import blocker, free_size, generation_size

SIZE_TIP = "Set by the canvas: the selection, or the whole canvas (select an area with M to change it)"


class GenerateGate(QObject):
    """Disables Generate with the reason shown (an empty mask for inpaint, ...); keeps the model's size right."""

    def __init__(self, panel, documents, parent: QObject | None = None) -> None:
        super().__init__(parent or panel)
        self.panel, self.model, self.documents = panel, panel.model, documents
        self.document: Document | None = None
        self.reason: str | None = None
        self._fixed = False  # the area sets the size now
        self._canvas_size: tuple | None = None  # the canvas size the free size last followed
        # Checks can composite the canvas (outpaint looks for empty pixels): once per pause, not per dab.
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.model.changed.connect(self._on_model_changed)
        documents.document_changed.connect(self._on_document)
        self._on_document(documents.document)

    def _on_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
        self.document = document
        self._canvas_size = None
        if document is not None:
            document.changed.connect(self._on_change)
        self.refresh()

    def _on_change(self, change: Change) -> None:
        if change.kind not in ("active", "modified"):
            self._timer.start()

    def _on_model_changed(self, name: str, _value) -> None:
        if name in ("mode", "hires_scale"):
            self.refresh()
        elif name in ("width", "height") and self._fixed:
            self._show_size(self.document)  # the area still decides: show its size, not a stale one

    def refresh(self) -> None:
        panel, document = self.panel, self.document
        reason = blocker(document, self.model.mode)
        panel.set_generate_blocked(reason)
        if reason:
            panel.show_notice(reason)
        elif self.reason and panel.notice_text() == self.reason:
            panel.show_notice("")  # only our own notice goes: an error shown there stays
        self.reason = reason
        self._show_size(document)

    def _show_size(self, document: Document | None) -> None:
        if document is None:
            self._fixed = False
            self.panel.set_size_fixed(None)
            return
        try:
            size = generation_size(document.selection_or_canvas())
        except EditError:
            size = None
        was_fixed, self._fixed = self._fixed, not free_size(document, self.model.mode, self.model.hires_scale)
        canvas = (document.width, document.height)
        if self._fixed or was_fixed or self._canvas_size != canvas:
            # the area's size; a free size starts from the canvas's again when it (or the mode) changed
            self._canvas_size = canvas
            if size is not None:
                self.model.update(width=size[0], height=size[1])
        self.panel.set_size_fixed(SIZE_TIP if self._fixed else None)
