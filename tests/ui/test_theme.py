"""Dark by default, light when the desktop says so (with System chosen), and the user's choice wins."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.theme import is_dark


def lightness() -> int:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness()


def ink(app) -> int:
    """The lightness of the brush icon's strokes as the tool strip draws it now."""
    image = app.workspace.actions["tool-brush"].icon().pixmap(22, 22).toImage()
    drawn = [image.pixelColor(x, y) for x in range(22) for y in range(22) if image.pixelColor(x, y).alpha() > 200]
    assert drawn, "the icon is empty"
    return max(colour.lightness() for colour in drawn)


def test_system_is_dark_unless_the_desktop_says_light():
    assert is_dark("system", Qt.ColorScheme.Unknown) and is_dark("system", Qt.ColorScheme.Dark)
    assert not is_dark("system", Qt.ColorScheme.Light)
    assert is_dark("dark", Qt.ColorScheme.Light) and not is_dark("light", Qt.ColorScheme.Dark)


def test_the_window_follows_the_desktop_scheme_until_the_user_picks_one(start_atelier):
    app = start_atelier({})
    hints = QApplication.styleHints()
    assert lightness() < 80  # the desktop (offscreen) says nothing: dark
    assert ink(app) > 180  # the tool icons are drawn light on dark
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)  # what Qt says when the desktop switches to light
    assert lightness() > 200 and QApplication.style().name().lower() == "fusion"
    assert ink(app) < 60  # and dark on light, from the same files
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert lightness() < 80
    app.theme_actions["dark"].trigger()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert lightness() < 80, "the user's Dark gave way to the desktop"
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Unknown)


def contrast(one, other) -> float:
    """WCAG contrast ratio of two QColors."""
    def luminance(colour) -> float:
        channels = [c / 255 for c in (colour.red(), colour.green(), colour.blue())]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink_contrast(label) -> float:
    """How far the label's painted text stands out from the window colour (the strongest pixel: a glyph's stem)."""
    image = label.grab().toImage()
    window = QApplication.palette().color(QPalette.ColorRole.Window)
    return max(contrast(image.pixelColor(x, y), window) for x in range(image.width()) for y in range(image.height()))


def test_notices_and_hints_stay_readable_in_both_themes(qtbot, start_atelier):
    """Amber on a light window was 2:1: every coloured note must reach 4.5:1 (WCAG AA) in either theme."""
    app = start_atelier({})
    window, panel, chat = app.window, app.window.prompt_panel, app.chat.panel
    window.show()
    window.show_error("Width 250 is not a multiple of 8: it was snapped to 248")
    chat.show_notice("Waiting for the model lane")
    labels = {"prompt notice": panel.notice, "fast mode line": panel.fast_mode.line, "chat notice": chat.notice}
    for theme in ("light", "dark"):
        app.theme_actions[theme].trigger()
        for name, label in labels.items():
            qtbot.waitUntil(label.isVisible)
            assert ink_contrast(label) >= 4.5, f"the {name} is hard to read in the {theme} theme"


def test_tool_icons_are_pixmaps_painted_without_python(start_atelier):
    """A Python QIconEngine ran for every icon on every repaint; while the worker imported torch each of its
    Qt calls waited for the GIL and the first paint froze the window ~170 ms (benchmarks/stall.py)."""
    app = start_atelier({})
    for action in (app.workspace.actions["tool-brush"], app.workspace.actions["quick-mask"]):
        sizes = action.icon().availableSizes()  # only pixmaps added up front are listed; an engine lists none
        assert {(s.width(), s.height()) for s in sizes} >= {(16, 16), (22, 22), (44, 44)}
        assert action.icon().availableSizes(QIcon.Mode.Disabled), "the disabled ink is drawn up front too"
