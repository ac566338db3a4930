"""The tool bar over the canvas: tools, brush size, hardness and colour, quick mask, canvas expansion."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import QColorDialog, QLabel, QSlider, QSpinBox, QToolBar, QToolButton, QWidget

from desktop.ui.canvas.tools import MAX_BRUSH, MIN_BRUSH, ToolState

EXPAND_DEFAULT = 128


def _swatch(color: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(18, 18)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)


class ToolOptionsBar(QToolBar):
    """Shows and edits the ToolState; offers "Expand by N px" on each side for outpainting."""

    def __init__(self, tools: ToolState, expand: Callable[[int, int, int, int], bool], parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("tool-options")
        self.tools = tools
        self._expand = expand
        self.size = QSpinBox(minimum=MIN_BRUSH, maximum=MAX_BRUSH, suffix=" px", toolTip="Brush size ([ and ])")
        self.size.setObjectName("brush-size")
        self.hardness = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, toolTip="Brush hardness (Shift+[ and Shift+])")
        self.hardness.setObjectName("brush-hardness")
        self.hardness.setFixedWidth(90)
        self.color = QToolButton(toolTip="Brush colour")
        self.color.setObjectName("brush-color")
        self.expand_by = QSpinBox(minimum=8, maximum=4096, singleStep=8, value=EXPAND_DEFAULT, suffix=" px")
        self.expand_by.setObjectName("expand-by")
        self.expand_by.setToolTip("How much Expand adds (for outpainting); you can also drag a canvas edge outward")
        self.size.valueChanged.connect(lambda value: tools.set_size(value))
        self.hardness.valueChanged.connect(lambda value: tools.set_hardness(value / 100))
        self.color.clicked.connect(self.choose_color)
        tools.changed.connect(self._show)
        self._show()

    def build(self, tool_actions: list[QAction], mask_actions: list[QAction]) -> None:
        """Lay out the bar: tools first, then the brush, the mask and the canvas size."""
        for action in tool_actions:
            self.addAction(action)
        self.addSeparator()
        self.addWidget(QLabel(" Size "))
        self.addWidget(self.size)
        self.addWidget(QLabel("  Hardness "))
        self.addWidget(self.hardness)
        self.addWidget(QLabel("  "))
        self.addWidget(self.color)
        self.addSeparator()
        for action in mask_actions:
            self.addAction(action)
        self.addSeparator()
        self.addWidget(QLabel(" Expand by "))
        self.addWidget(self.expand_by)
        for text, tip, side in (("←", "left", 0), ("↑", "top", 1), ("→", "right", 2), ("↓", "bottom", 3), ("All", "every", None)):
            button = QToolButton(text=text, toolTip=f"Expand the canvas on the {tip} side" + ("s" if side is None else ""))
            button.setObjectName(f"expand-{tip}")
            button.clicked.connect(lambda _checked=False, side=side: self.expand_side(side))
            self.addWidget(button)

    def expand_side(self, side: int | None) -> bool:
        """Grow the canvas by the spin box's amount on one side (0 left .. 3 bottom), or all of them."""
        amount = self.expand_by.value()
        pads = [amount] * 4 if side is None else [amount if i == side else 0 for i in range(4)]
        return self._expand(*pads)

    def choose_color(self) -> None:
        color = QColorDialog.getColor(QColor(*self.tools.color), self, "Brush colour")
        if color.isValid():
            self.tools.set_color((color.red(), color.green(), color.blue()))

    def _show(self) -> None:
        tools = self.tools
        for widget, value in ((self.size, int(tools.size)), (self.hardness, round(tools.hardness * 100))):
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
        self.color.setIcon(_swatch(tools.color))
        self.color.setEnabled(not tools.mask_mode)
