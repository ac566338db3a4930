"""Light and dark looks: Fusion with Atelier's palettes, following the desktop's colour scheme by default.

Creative tools are dark by default (Krita, Blender, Photoshop): with "System", Atelier is light only
when the desktop says light, and dark when it says dark or says nothing. View > Theme overrides it and
the choice is saved. Widgets read colours from the palette, and the icons (desktop/ui/icons.py) are
drawn in the palette's text colour, so a switch recolours everything at once.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES = {"system": "Follow the &System", "dark": "&Dark", "light": "&Light"}
DEFAULT = "system"

# (role, colour in the Active/Inactive groups, colour when Disabled or None for the same)
DARK_COLOURS = (
    ("Window", "#2d2d30", None), ("WindowText", "#e4e4e8", "#7c7c82"),
    ("Base", "#1f1f22", "#252528"), ("AlternateBase", "#28282b", None),
    ("Button", "#38383c", "#303033"), ("ButtonText", "#e4e4e8", "#7c7c82"),
    ("Text", "#e4e4e8", "#7c7c82"), ("BrightText", "#ffffff", None),
    ("Light", "#4a4a50", None), ("Midlight", "#3e3e43", None), ("Mid", "#2a2a2d", None),
    ("Dark", "#1b1b1d", None), ("Shadow", "#0e0e10", None),
    ("Highlight", "#3d7fd6", "#3a3a3e"), ("HighlightedText", "#ffffff", "#9a9aa0"),
    ("Link", "#6aa8ff", None), ("LinkVisited", "#b08cff", None),
    ("ToolTipBase", "#3a3a3f", None), ("ToolTipText", "#f0f0f4", None),
    ("PlaceholderText", "#8c8c93", None), ("Accent", "#3d7fd6", None),
)
CANVAS_BACKGROUND = {"dark": "#232326", "light": "#b9b9be"}  # around the picture: neutral, never tinted
# Text that is not the palette's own (notices, quiet hints, errors): one colour per theme, each at least
# 4.5:1 against the theme's window colour (WCAG AA), so an amber notice stays readable on a light window
TONES = {
    "warning": {"dark": "#e0a040", "light": "#8a5300"},
    "muted": {"dark": "#9aa0aa", "light": "#5f636b"},
    "error": {"dark": "#ff6b6b", "light": "#b3261e"},
}


def is_dark(choice: str, scheme: Qt.ColorScheme | None = None) -> bool:
    """Dark unless the user chose Light, or chose System and the desktop says Light."""
    if choice == "light":
        return False
    if choice == "dark":
        return True
    scheme = QGuiApplication.styleHints().colorScheme() if scheme is None else scheme
    return scheme != Qt.ColorScheme.Light


def dark_palette() -> QPalette:
    palette = QPalette()
    for role_name, colour, disabled in DARK_COLOURS:
        role = getattr(QPalette.ColorRole, role_name)
        palette.setColor(QPalette.ColorGroup.All, role, QColor(colour))
        if disabled is not None:
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return palette


def light_palette(app: QApplication) -> QPalette:
    palette = app.style().standardPalette()
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#7a7a80"))  # Fusion's is black
    return palette


class Theme(QObject):
    """Applies the chosen look to the application and keeps it in step with the desktop's scheme."""

    def __init__(self, app: QApplication, choice: str = DEFAULT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.choice = choice if choice in THEMES else DEFAULT
        self.desktop_scheme = app.styleHints().colorScheme()  # what the desktop says (Unknown: it says nothing)
        app.styleHints().colorSchemeChanged.connect(self._on_desktop_changed)

    @property
    def dark(self) -> bool:
        return is_dark(self.choice, self.desktop_scheme)

    def apply(self, choice: str | None = None) -> None:
        if choice is not None:
            self.choice = choice if choice in THEMES else DEFAULT
        app = self.app
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")  # the same widgets everywhere; native styles ignore custom palettes
        app.setPalette(dark_palette() if self.dark else light_palette(app))
        app.setProperty("atelier_theme", "dark" if self.dark else "light")
        from desktop.ui.icons import reink_tool_icons

        reink_tool_icons()  # the tool icons are pixmaps in the old ink: draw them again
        for widget in app.allWidgets():
            if widget.property("tone"):
                set_tone(widget, widget.property("tone"), widget.property("tone_style") or "")
            widget.update()  # icons and the canvas paint from the palette: repaint them now

    def _on_desktop_changed(self, scheme: Qt.ColorScheme) -> None:
        self.desktop_scheme = scheme
        if self.choice == "system":
            self.apply()


def canvas_background(widget: QWidget) -> QColor:
    """The colour around the picture on the canvas, for the current theme."""
    theme = QApplication.instance().property("atelier_theme") if QApplication.instance() else None
    if theme in CANVAS_BACKGROUND:
        return QColor(CANVAS_BACKGROUND[theme])
    return widget.palette().color(QPalette.ColorRole.Dark)


def tone_colour(tone: str) -> str:
    """The colour of a tone ("warning", "muted", "error") in the theme now (dark before one is applied)."""
    app = QApplication.instance()
    theme = app.property("atelier_theme") if app is not None else None
    return TONES[tone]["light" if theme == "light" else "dark"]


def set_tone(widget: QWidget, tone: str, style: str = "") -> QWidget:
    """Colour a widget's text with a tone; a theme switch recolours it. `style`: more CSS for it (padding)."""
    widget.setProperty("tone", tone)
    widget.setProperty("tone_style", style)
    widget.setStyleSheet(f"color: {tone_colour(tone)};{(' ' + style) if style else ''}" if tone else style)
    return widget


def install_theme_menu(window, theme: Theme, save: Callable[[str], None]) -> dict[str, QAction]:
    """View > Theme: System / Dark / Light, one checked; a choice applies at once and is saved."""
    menu = window.menus["&View"].addMenu("&Theme")
    group = QActionGroup(window)
    actions: dict[str, QAction] = {}
    for key, label in THEMES.items():
        action = QAction(label, window, checkable=True)
        action.setChecked(key == theme.choice)
        action.triggered.connect(lambda _checked=False, key=key: (theme.apply(key), save(key)))
        group.addAction(action)
        menu.addAction(action)
        actions[key] = action
    return actions
