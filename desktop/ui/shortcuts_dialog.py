"""Help > Keyboard Shortcuts: every key and gesture, grouped, in a window that fits a small screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

SCREEN_SHARE = 0.8  # of the free screen height, at most: the Close button stays on a 768 px screen


class ShortcutsDialog(QDialog):
    """A two-column table (keys, what they do) with a row per group title; scrolls instead of growing."""

    def __init__(self, groups: dict[str, list[tuple[str, str]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcuts-dialog")
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("shortcuts")
        self.table.setHorizontalHeaderLabels(("Keys", "What it does"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for group, rows in groups.items():
            self._add_title(group)
            for keys, what in rows:
                self._add_row(native_text(keys), what)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, self._height())

    def _add_title(self, title: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(title)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        self.table.setItem(row, 0, item)
        self.table.setSpan(row, 0, 1, 2)

    def _add_row(self, keys: str, what: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(keys))
        self.table.setItem(row, 1, QTableWidgetItem(what))

    def _height(self) -> int:
        wanted = sum(self.table.rowHeight(r) for r in range(self.table.rowCount())) + 90
        screen = self.screen() or QGuiApplication.primaryScreen()
        limit = int(screen.availableGeometry().height() * SCREEN_SHARE) if screen is not None else 600
        return min(wanted, limit)

    def listed(self) -> list[tuple[str, str]]:
        """The (keys, description) rows shown, group titles left out."""
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text())
                for r in range(self.table.rowCount()) if self.table.item(r, 1) is not None]


def native_text(keys: str) -> str:
    """'Ctrl+Shift+S' as this platform writes it (⌘ on macOS); gestures like 'Space+drag' stay as written."""
    sequence = QKeySequence(keys)
    if sequence.isEmpty() or sequence.toString() != keys:
        return keys
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)
