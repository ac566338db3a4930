"""Keeps the prompt panel's Generate button and size honest about what the canvas can run now."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from desktop.core.document import Change, Document, EditError
from desktop.ui.canvas.generation_plan import blocker, generation_size

SIZE_TIP = "Set by the canvas: the selection, or the whole canvas (select an area with M to change it)"


class GenerateGate(QObject):
    """Disables Generate with the reason shown (an empty mask for inpaint, ...); shows the size a job runs at."""

    def __init__(self, panel, documents, parent: QObject | None = None) -> None:
        super().__init__(parent or panel)
        self.panel, self.documents = panel, documents
        self.document: Document | None = None
        self.reason: str | None = None
        self._size_tips = (panel.width_box.toolTip(), panel.height_box.toolTip())
        # Checks can composite the canvas (outpaint looks for empty pixels): once per pause, not per dab.
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        panel.mode.currentIndexChanged.connect(lambda _index: self.refresh())
        documents.document_changed.connect(self._on_document)
        self._on_document(documents.document)

    def _on_document(self, document: Document | None) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
        self.document = document
        if document is not None:
            document.changed.connect(self._on_change)
        self.refresh()

    def _on_change(self, change: Change) -> None:
        if change.kind not in ("active", "modified"):
            self._timer.start()

    def refresh(self) -> None:
        panel, document = self.panel, self.document
        reason = blocker(document, panel.current_mode())
        panel.generate_button.setEnabled(reason is None)
        panel.generate_button.setToolTip(reason or "Generate (Ctrl+Enter)")
        if reason:
            panel.show_notice(reason)
        elif self.reason and panel.notice.text() == self.reason:
            panel.show_notice("")  # only our own notice goes: an error shown there stays
        self.reason = reason
        self._show_size(document)

    def _show_size(self, document: Document | None) -> None:
        boxes = (self.panel.width_box, self.panel.height_box)
        if document is None:
            for box, tip in zip(boxes, self._size_tips):
                box.setEnabled(True)
                box.setToolTip(tip)
            return
        try:
            size = generation_size(document.selection_or_canvas())
        except EditError:
            size = None
        for box, value in zip(boxes, size or (None, None)):
            if value is not None and box.value() != value:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
            box.setEnabled(False)
            box.setToolTip(SIZE_TIP)
