"""Atelier's own tool icons: line drawings in resources/icons/tools/, painted in the theme's text colour.

Each SVG is drawn in black (#000000) and recoloured when painted, so one file serves the dark and the
light theme, and the disabled and checked states, without a second set of files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
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


def _colour(mode: QIcon.Mode, state: QIcon.State) -> str:
    palette = QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText).name()
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorRole.HighlightedText).name()
    return palette.color(QPalette.ColorRole.ButtonText).name()


class ToolIconEngine(QIconEngine):
    """Paints one SVG icon in the current palette's colour for the mode it is asked for."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        _svg(name)  # a missing file fails here, where the icon is made, not at first paint

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        pixmap = _rendered(self.name, _colour(mode, state), max(1, round(rect.width() * ratio)),
                           max(1, round(rect.height() * ratio)))
        painter.drawPixmap(rect, pixmap)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return QPixmap(_rendered(self.name, _colour(mode, state), size.width(), size.height()))

    def clone(self) -> QIconEngine:
        return ToolIconEngine(self.name)

    def key(self) -> str:
        return "atelier-tool"


def tool_icon(name: str) -> QIcon:
    """The icon resources/icons/tools/<name>.svg, following the theme."""
    return QIcon(ToolIconEngine(name))


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
