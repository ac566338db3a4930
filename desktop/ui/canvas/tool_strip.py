"""The tool strip beside the canvas: one icon per tool and for the inpaint mask, as in Krita and Photoshop."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar, QWidget

ICON_SIZE = 22


class ToolStrip(QToolBar):
    """A vertical bar of the Tools menu's actions (icons, tooltips with their keys) and the mask commands."""

    def __init__(self, tool_actions: list[QAction], mask_actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self.setObjectName("tool-strip")
        self.setOrientation(Qt.Orientation.Vertical)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in tool_actions:
            self.addAction(action)
        self.addSeparator()
        for action in mask_actions:
            self.addAction(action)
