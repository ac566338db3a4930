"""The main window: canvas in the middle, prompt panel on the left, status bar, menus, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QTabWidget,
                               QToolBar, QHBoxLayout, QVBoxLayout, QWidget)

from desktop import __version__
from desktop.ui.canvas_view import CanvasView
from desktop.ui.prompt_panel import PromptPanel
from desktop.ui.shortcuts_dialog import ShortcutsDialog

# Keys and gestures that are not menu commands; every menu command with a key joins the list itself
SHORTCUTS = [
    ("Ctrl+Enter", "Generate"),
    ("Esc", "Cancel the running generation"),
    ("Wheel", "Zoom around the cursor"),
    ("Space+drag / middle button", "Pan"),
]
DEFAULT_SIZE = QSize(1280, 800)  # the smallest screen we design for; smaller screens get what they have
FRAME_ALLOWANCE = QSize(0, 32)  # the title bar the window manager adds around what resize() sizes
PANEL_WIDTH = 330  # each side column at first (at least); the canvas gets the rest
PANEL_SHARE, MAX_PANEL_WIDTH = 0.21, 420  # wider windows give the columns a little more
TAB_GROUPS = (("dock-layers", "dock-history"), ("dock-gallery", "dock-chat"))  # each group shares one place
RAISED = {"dock-gallery": "dock-chat"}  # the tab in front where it is not the group's first
LAYERS_SHARE = 0.38  # of the right column: six layers listed, two rows of gallery thumbnails below
SCROLLBAR_ROOM = 24  # the prompt panel's settings scroll on short screens: keep its fields clear of the bar
# Window shortcuts, not application ones: Esc in the Models window closes it instead of cancelling a
# generation, and Ctrl+Enter typed in a dialog does not start one. A floating dock is a tool window of
# this one, so the keys still work there.
SHORTCUT_CONTEXT = Qt.ShortcutContext.WindowShortcut


class MainWindow(QMainWindow):
    """Lays out the canvas, the docks and the status bar; features add docks and menu entries."""

    def __init__(self, prompt_model=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Atelier")
        self.setObjectName("atelier-main-window")
        self.resize(default_size())
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.menus = {name: self.menuBar().addMenu(name) for name in ("&File", "&Edit", "&View", "&Help")}
        self.menus["Panels"] = QMenu("&Panels", self)  # filled by add_dock/add_panel; placed in View below
        self.canvas = CanvasView()
        # the canvas's tool bar sits on the canvas, not across the window: the side panels get the full height
        self.canvas_area = QWidget()
        self.canvas_area.setObjectName("canvas-area")
        self._canvas_column = QVBoxLayout(self.canvas_area)
        self._canvas_column.setContentsMargins(0, 0, 0, 0)
        self._canvas_column.setSpacing(0)
        self._canvas_row = QHBoxLayout()
        self._canvas_row.setSpacing(0)
        self._canvas_row.addWidget(self.canvas, 1)
        self._canvas_column.addLayout(self._canvas_row, 1)
        self.setCentralWidget(self.canvas_area)
        self.prompt_panel = PromptPanel(prompt_model)  # scrolls its settings itself; Generate stays in view
        self.prompt_dock = self.add_dock("Prompt", self.prompt_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.prompt_dock.setMinimumWidth(320)
        self.device_label = QLabel("Device: not loaded yet")
        self.model_label = QLabel("")
        self.timing_label = QLabel("")
        status = self.statusBar()
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.device_label)
        status.addPermanentWidget(self.timing_label)
        self.shortcuts = list(SHORTCUTS)
        self.shortcut_groups: dict[str, str] = {keys: "Generating and the canvas" for keys, _what in SHORTCUTS}
        self._build_actions()

    def add_dock(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.add_panel(dock)
        if not self._arranged and dock.objectName() in {partner for _first, partner in TAB_GROUPS}:
            dock.hide()  # until arrange_panels tabs it with its partner, at the first show
        return dock

    def add_canvas_bar(self, bar: QToolBar, beside: bool = False) -> None:
        """A tool bar on the canvas: over it, or `beside` it on the left (the tools); View > Panels toggles it."""
        if beside:
            self._canvas_row.insertWidget(0, bar)
        else:
            self._canvas_column.insertWidget(self._canvas_column.count() - 1, bar)
        self.add_panel(bar)

    def add_panel(self, panel) -> None:
        """A dock or tool bar the user can show and hide from View > Panels."""
        self.menus["Panels"].addAction(panel.toggleViewAction())

    def arrange_panels(self) -> None:
        """The first layout, once every feature added its docks: the canvas gets the room; on the right,
        Layers (tabbed with History) above Chat (tabbed with Gallery), the lists tall enough to use."""
        docks = {dock.objectName(): dock for dock in self.findChildren(QDockWidget)}
        for first, partner in TAB_GROUPS:
            if first in docks and partner in docks:
                self.tabifyDockWidget(docks[first], docks[partner])
                docks[partner].show()
                docks[RAISED.get(first, first)].raise_()
        left, right = docks.get("dock-prompt"), docks.get("dock-layers")
        below = docks.get("dock-chat") or docks.get("dock-gallery")
        if left is not None and right is not None:
            side = max(PANEL_WIDTH, min(MAX_PANEL_WIDTH, int(self.width() * PANEL_SHARE)))
            prompt = max(side, self.prompt_panel.minimumSizeHint().width() + SCROLLBAR_ROOM)
            self.resizeDocks([left, right], [prompt, side], Qt.Orientation.Horizontal)
        if right is not None and below is not None:
            height = max(self.height(), 1)
            self.resizeDocks([right, below], [int(height * LAYERS_SHARE), int(height * (1 - LAYERS_SHARE))],
                             Qt.Orientation.Vertical)
        self.layout().activate()  # now, not at the next event: sizes read after this are the final ones
        self.panels_arranged = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._arranged:
            # Tabified before the window is shown (or while it is being shown), Qt leaves a stale tab bar
            # drawn over the canvas; so the second dock of each group waits hidden (add_dock) and joins its
            # partner once the window is up.
            self._arranged = True
            QTimer.singleShot(0, self.arrange_panels)

    _arranged = False
    panels_arranged = False  # True once the first layout is in place (tests and screenshots wait for it)

    def add_menu(self, name: str, before: str = "&Help") -> QMenu:
        """A new top-level menu, placed before `before`, that features fill with add_action."""
        menu = QMenu(name, self)
        self.menuBar().insertMenu(self.menus[before].menuAction(), menu)
        self.menus[name] = menu
        return menu

    def add_action(self, menu: str, text: str, slot, shortcut: str | None = None, describe: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(SHORTCUT_CONTEXT)
            self.shortcuts.append((shortcut, describe or text.replace("&", "").rstrip("…")))
            self.shortcut_groups[shortcut] = menu.replace("&", "")
        action.triggered.connect(slot)
        self.menus[menu].addAction(action)
        return action

    def _build_actions(self) -> None:
        self.generate_shortcuts = [QShortcut(QKeySequence(key), self) for key in ("Ctrl+Return", "Ctrl+Enter")]
        for shortcut in self.generate_shortcuts:
            shortcut.setContext(SHORTCUT_CONTEXT)
            shortcut.activated.connect(self.prompt_panel.request_generate)
        self.cancel_shortcut = QShortcut(QKeySequence("Esc"), self)
        self.cancel_shortcut.setContext(SHORTCUT_CONTEXT)
        self.cancel_shortcut.activated.connect(self.prompt_panel.cancel_requested)
        self.add_action("&View", "&Fit to Window", self.canvas.fit, "Ctrl+0", "Fit the canvas to the window")
        self.add_action("&View", "&Actual Size", self.canvas.actual_size, "Ctrl+1", "Actual size (100%)")
        self.menus["&View"].addSeparator()
        self.menus["&View"].addMenu(self.menus["Panels"])
        self.menus["&View"].addSeparator()
        self.add_action("&Help", "&Keyboard Shortcuts", self.show_shortcuts)
        self.add_action("&Help", "&About Atelier", self.show_about)

    def open_folder(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_error(self, text: str) -> None:
        self.statusBar().showMessage(f"⚠ {text}", 15000)
        self.prompt_panel.show_notice(text)

    def shortcut_table(self) -> dict[str, list[tuple[str, str]]]:
        """Every key and gesture, grouped by menu in menu-bar order, then the canvas's own."""
        order = [action.text().replace("&", "") for action in self.menuBar().actions()]
        order += ["Generating and the canvas", "Canvas gestures"]
        groups: dict[str, list[tuple[str, str]]] = {name: [] for name in order}
        seen: set[str] = set()
        for keys, what in self.shortcuts:
            if keys not in seen:  # a key listed twice (two features naming it) shows once
                seen.add(keys)
                groups.setdefault(self.shortcut_groups.get(keys, "Canvas gestures"), []).append((keys, what))
        return {name: rows for name, rows in groups.items() if rows}

    def show_shortcuts(self) -> None:
        """Help > Keyboard Shortcuts: every key, grouped by menu, in a window that fits the screen."""
        ShortcutsDialog(self.shortcut_table(), self).exec()

    def show_about(self) -> None:
        QMessageBox.about(self, "About Atelier",
                          f"<b>Atelier {__version__}</b><br>A local, private studio for generative art. "
                          "Your models and images never leave this machine.")


def default_size() -> QSize:
    """1280x800, or the screen's free area when it is smaller (a 1366x768 laptop gets the whole screen)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    free = screen.availableGeometry().size() - FRAME_ALLOWANCE
    return DEFAULT_SIZE.boundedTo(free) if free.isValid() and not free.isEmpty() else DEFAULT_SIZE
