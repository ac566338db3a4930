"""The main window: canvas in the middle, prompt panel on the left, status bar, menus, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from desktop import __version__
from desktop.ui.canvas_view import CanvasView
from desktop.ui.prompt_panel import PromptPanel

SHORTCUTS = [
    ("Ctrl+Enter", "Generate"),
    ("Esc", "Cancel the running generation"),
    ("Ctrl+0", "Fit the canvas to the window"),
    ("Ctrl+1", "Actual size (100%)"),
    ("Wheel", "Zoom around the cursor"),
    ("Space+drag / middle button", "Pan"),
]


class MainWindow(QMainWindow):
    """Lays out the canvas, the docks and the status bar; features add docks and menu entries."""

    def __init__(self, prompt_model=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Atelier")
        self.setObjectName("atelier-main-window")
        self.resize(1280, 820)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.menus = {name: self.menuBar().addMenu(name) for name in ("&File", "&Edit", "&View", "&Help")}
        self.canvas = CanvasView()
        self.setCentralWidget(self.canvas)
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
        self._build_actions()

    def add_dock(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menus["&View"].addAction(dock.toggleViewAction())
        return dock

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
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            self.shortcuts.append((shortcut, describe or text.replace("&", "").rstrip("…")))
        action.triggered.connect(slot)
        self.menus[menu].addAction(action)
        return action

    def _build_actions(self) -> None:
        self.generate_shortcuts = [QShortcut(QKeySequence(key), self) for key in ("Ctrl+Return", "Ctrl+Enter")]
        for shortcut in self.generate_shortcuts:
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(self.prompt_panel.request_generate)
        self.cancel_shortcut = QShortcut(QKeySequence("Esc"), self)
        self.cancel_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.cancel_shortcut.activated.connect(self.prompt_panel.cancel_requested)
        self.add_action("&View", "&Fit to Window", self.canvas.fit, "Ctrl+0")
        self.add_action("&View", "&Actual Size", self.canvas.actual_size, "Ctrl+1")
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

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{key}</b></td><td>{what}</td></tr>" for key, what in self.shortcuts)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing=6>{rows}</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About Atelier",
                          f"<b>Atelier {__version__}</b><br>A local, private studio for generative art. "
                          "Your models and images never leave this machine.")
