"""Atelier's window and taskbar icon, from the PNG renders of resources/icons/atelier.svg."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"


def app_icon(folder: Path = ICONS) -> QIcon:
    """Every rendered size, so each desktop picks a sharp one (PNG needs no SVG plugin)."""
    icon = QIcon()
    for png in sorted(folder.glob("atelier-*.png")):
        icon.addFile(str(png))
    return icon
