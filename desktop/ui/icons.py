"""Atelier's own tool icons: line drawings in resources/icons/tools/, painted in the theme's text colour.

Each SVG is drawn in black (#000000) and recoloured when rendered, so one file serves the dark and the
light theme and the disabled and selected states, without a second set of files.
"""

from __future__ import annotations

import weakref
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

TOOL_ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons" / "tools"
INK = "#000000"  # the colour the files are drawn in; replaced by the palette's when painted


class IconMissing(LookupError):
    pass


@lru_cache(maxsize=None)
def _svg(name: str) -> str:
    path = TOOL_ICONS / f"{name}.svg"
    if not path.is_file():
        raise IconMissing(f"no icon {name!r} in {TOOL_ICONS}")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _rendered(name: str, colour: str, width: int, height: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(_svg(name).replace(INK, colour).encode("utf-8")))
    pixmap = QPixmap(width, height)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, width, height))
    painter.end()
    return pixmap


def _colour(mode: QIcon.Mode) -> str:
    palette = QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText).name()
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorRole.HighlightedText).name()
    return palette.color(QPalette.ColorRole.ButtonText).name()


# Painted up front, not in a Python QIconEngine: an engine's paint runs Python for every icon on every
# repaint, and while the worker imports torch each Qt call from Python waited its turn for the GIL, so
# the first paint of the tool strip froze the window for ~170 ms (benchmarks/stall.py; 30 ms without).
# A QIcon of plain pixmaps paints in C++ alone. Sizes: the menus (16), the options bar and tool strip
# (20, 22), and twice that for high-density screens; Qt scales the nearest one for anything else.
SIZES = (16, 20, 22, 32, 40, 44)
MODES = (QIcon.Mode.Normal, QIcon.Mode.Disabled, QIcon.Mode.Selected)
_inked: list[tuple[weakref.ref, str]] = []  # what carries a tool icon, re-inked when the palette changes


def tool_icon(name: str) -> QIcon:
    """The icon resources/icons/tools/<name>.svg in the current palette's ink (a snapshot: see set_tool_icon)."""
    _svg(name)  # a missing file fails here, where the icon is made, not at first paint
    icon = QIcon()
    for mode in MODES:
        colour = _colour(mode)
        for size in SIZES:
            icon.addPixmap(_rendered(name, colour, size, size), mode)
    return icon


def set_tool_icon(target, name: str) -> None:
    """Give an action or button the tool icon `name`, and again in the new ink whenever the theme changes."""
    target.setIcon(tool_icon(name))
    _inked.append((weakref.ref(target), name))


def reink_tool_icons() -> None:
    """The palette changed (Theme.apply): every icon given by set_tool_icon is drawn again in its ink."""
    alive = []
    for ref, name in _inked:
        target = ref()
        if target is None:
            continue
        try:
            target.setIcon(tool_icon(name))
        except RuntimeError:  # its C++ object is gone (the window closed)
            continue
        alive.append((ref, name))
    _inked[:] = alive


def swatch(colour: QColor | tuple[int, int, int], size: int = 18) -> QIcon:
    """A filled square with a thin outline: the brush colour on its button, visible on any theme."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(128, 128, 128))
    painter.setBrush(QColor(*colour) if isinstance(colour, tuple) else colour)
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)
