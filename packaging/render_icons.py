"""Render resources/icons/atelier.svg to the PNG sizes desktops ask for (16 to 512 px), with Qt.

Run after editing the SVG:  .venv/bin/python packaging/render_icons.py
The PNGs are committed: the .desktop file, the AppDir, Windows' .ico and macOS' .icns use them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render(svg: Path, out_dir: Path, sizes=SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter needs one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"atelier-{size}.png"
        if not image.save(str(path)):
            raise SystemExit(f"could not write {path}")
        written.append(path)
    return written


def write_ico(pngs: list[Path], path: Path) -> Path:
    """A Windows .ico holding the sizes up to 256 (Pillow picks them from the largest image)."""
    from PIL import Image

    largest = Image.open(max(pngs, key=lambda p: int(p.stem.split("-")[1])))
    largest.save(path, sizes=[(s, s) for s in SIZES if s <= 256])
    return path


if __name__ == "__main__":
    pngs = render(ICONS / "atelier.svg", ICONS)
    write_ico(pngs, ICONS / "atelier.ico")
    print("\n".join(str(p) for p in pngs + [ICONS / "atelier.ico"]))
