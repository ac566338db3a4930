"""The options bar over the canvas: brush size, hardness and colour, and growing the canvas for outpainting."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QColorDialog, QHBoxLayout, QLabel, QMenu, QSlider, QSpinBox, QToolBar, QToolButton, QWidget,
                               QWidgetAction)

from desktop.ui.canvas.tools import MAX_BRUSH, MIN_BRUSH, ToolState
from desktop.ui.icons import set_tool_icon, swatch

EXPAND_DEFAULT = 128


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setContentsMargins(8, 0, 4, 0)  # the same gap before every control on the bar
    return label


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
        self.color = QToolButton(toolTip="Brush colour", autoRaise=True)
        self.color.setObjectName("brush-color")
        self.expand_by = QSpinBox(minimum=8, maximum=4096, singleStep=8, value=EXPAND_DEFAULT, suffix=" px")
        self.expand_by.setObjectName("expand-by")
        self.expand_by.setToolTip("How much Expand adds (for outpainting); you can also drag a canvas edge outward")
        self.expand_button = self._build_expand_menu()
        self.size.valueChanged.connect(lambda value: tools.set_size(value))
        self.hardness.valueChanged.connect(lambda value: tools.set_hardness(value / 100))
        self.color.clicked.connect(self.choose_color)
        tools.changed.connect(self._show)
        self._show()

    def build(self) -> None:
        """Lay out the bar: the brush (size, hardness, colour), then growing the canvas for outpainting."""
        self.setIconSize(QSize(20, 20))
        self.addWidget(_label("Size"))
        self.addWidget(self.size)
        self.addWidget(_label("Hardness"))
        self.addWidget(self.hardness)
        self.addWidget(self.color)
        self.addSeparator()
        self.addWidget(self.expand_button)

    def _build_expand_menu(self) -> QToolButton:
        """One button for growing the canvas (outpainting): its menu holds the amount and the five sides."""
        button = QToolButton(autoRaise=True, toolTip="Expand the canvas for outpainting: choose the side and amount "
                             "(or drag a canvas edge outward)")
        button.setObjectName("expand-canvas")
        set_tool_icon(button, "expand-all")
        button.setText("Expand")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        amount = QWidget(menu)
        row = QHBoxLayout(amount)
        row.setContentsMargins(10, 4, 10, 4)
        row.addWidget(QLabel("By"))
        row.addWidget(self.expand_by, 1)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(amount)
        menu.addAction(holder)
        menu.addSeparator()
        self.expand_actions = {}
        for icon, name, side in (("expand-left", "left", 0), ("expand-top", "top", 1), ("expand-right", "right", 2),
                                 ("expand-bottom", "bottom", 3), ("expand-all", "every", None)):
            label = "All sides" if side is None else f"{name.title()} side"
            action = menu.addAction(label)
            set_tool_icon(action, icon)
            action.setObjectName(f"expand-{name}")
            action.triggered.connect(lambda _checked=False, side=side: self.expand_side(side))
            self.expand_actions[name] = action
        button.setMenu(menu)
        return button

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
        self.color.setIcon(swatch(tools.color))
        self.color.setEnabled(not tools.mask_mode)
