"""Acceptance checks for the File, Edit, View, Settings and Help menus (the table is in test_commands.py).

Each check gets a Person with a freshly started Atelier; it sets up what the user would have (a
picture open, a layer added), does the command as a person does (`p.run()`: its key, else its menu
item; real dialogs are answered by filling them in), and asserts what the person sees change.
"""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QRectF, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QDockWidget, QMessageBox, QSpinBox, QToolBar

from desktop import __version__
from desktop.core.geometry import Rect
from desktop.core.settings import Settings
from desktop.ui.canvas.dialogs import NewCanvasDialog
from desktop.ui.shortcuts_dialog import ShortcutsDialog, native_text
from tests.ui.user_actions import Person, answer_dialog, answer_file_dialog, make_active


# ---------------------------------------------------------------------- File
def new_canvas(p: Person) -> None:
    """Ctrl+N, type 250 x 96: OK snaps 250 to 248 and says so in the dialog; a second OK makes the canvas."""

    def fill(dialog: NewCanvasDialog) -> None:
        for name, text in (("new-width", "250"), ("new-height", "96")):
            box = dialog.findChild(QSpinBox, name)
            box.selectAll()
            QTest.keyClicks(box, text)
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        ok.click()
        assert dialog.isVisible() and "snapped to 248 px" in dialog.notice.text(), dialog.notice.text()
        ok.click()

    answer = answer_dialog(NewCanvasDialog, fill)
    p.run()
    answer.check()
    assert (p.document.width, p.document.height) == (248, 96)
    assert (p.canvas.image.width(), p.canvas.image.height()) == (248, 96) and "248 × 96" in p.status()


def open_file(p: Person) -> None:
    picture = p.folder / "fox.png"
    pixels = np.zeros((24, 40, 3), np.uint8)
    pixels[..., 0] = 200
    Image.fromarray(pixels).save(picture)
    answer = answer_file_dialog(picture)
    p.run()
    answer.check()
    assert (p.canvas.image.width(), p.canvas.image.height()) == (40, 24)
    assert p.canvas.image.pixelColor(3, 3).red() == 200 and p.window.windowTitle().startswith("fox")


def open_recent(p: Person) -> None:
    first = p.open_picture(name="first")
    p.open_picture(name="second")
    menu = p.action.menu()
    menu.popup(p.window.mapToGlobal(p.window.rect().center()))  # what hovering File > Open Recent does
    entries = {action.text(): action for action in menu.actions()}
    assert list(entries) == ["second.png", "first.png"]
    entries["first.png"].trigger()
    menu.close()
    assert p.document.path == first and p.window.windowTitle().startswith("first")


def save(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    assert p.window.isWindowModified()
    target = p.folder / "work.ora"
    answer = answer_file_dialog(target)  # an opened PNG is saved as a project: Save asks where
    p.run()
    answer.check()
    assert target.is_file() and not p.window.isWindowModified() and p.window.windowTitle().startswith("work")
    p.layers.add_layer()
    p.run()  # the second Save writes the same project without asking
    assert not p.window.isWindowModified() and target.stat().st_size > 0


def save_as(p: Person) -> None:
    p.open_picture()
    target = p.folder / "copy.ora"
    answer = answer_file_dialog(target)
    p.run()
    answer.check()
    assert target.is_file() and p.window.windowTitle().startswith("copy") and "Saved copy.ora" in p.status()


def export_image(p: Person) -> None:
    p.open_picture(48, 32)
    target = p.folder / "flat.webp"
    answer = answer_file_dialog(target)
    p.run()
    answer.check()
    with Image.open(target) as written:
        assert written.size == (48, 32) and written.format == "WEBP"
    assert "Exported flat.webp" in p.status()


def models_window(p: Person) -> None:
    """Ctrl+Shift+M opens the Models window; Esc closes it, and so does its Close button."""
    p.run()
    window = p.app.models.models_window
    headers = [window.table.horizontalHeaderItem(i).text() for i in range(window.table.columnCount())]
    assert window.isVisible() and headers[:2] == ["Name", "Kind"]
    make_active(window)
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible(), "Esc did not close the Models window"
    p.run()
    assert window.isVisible()
    window.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close).click()
    assert not window.isVisible()


class OpenedUrls(QObject):
    """Stands in for the desktop's file manager: Qt hands it the folder the app asks to show."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def show(self, url: QUrl) -> None:
        self.urls.append(url)


def _opens_folder(p: Person, folder) -> None:
    opened = OpenedUrls()
    QDesktopServices.setUrlHandler("file", opened, "show")
    try:
        p.run()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [QUrl.fromLocalFile(str(folder))]


def open_outputs_folder(p: Person) -> None:
    _opens_folder(p, p.app.outputs_dir())


def open_models_folder(p: Person) -> None:
    _opens_folder(p, p.app.models_dir())


def rescan_models(p: Person, tiny_sd15) -> None:
    assert p.app.welcome.isVisible() and p.window.prompt_panel.model_box.count() == 0
    shutil.copytree(tiny_sd15, p.app.models_dir() / "copied-in")  # a model copied in while Atelier runs
    p.run()
    assert not p.app.welcome.isVisible() and "copied-in" in p.window.prompt_panel.model_box.currentText()


def quit_app(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    answer = answer_dialog(QMessageBox, lambda box: box.button(QMessageBox.StandardButton.Discard).click())
    p.run()
    answer.check()
    p.qtbot.waitUntil(lambda: not p.window.isVisible(), timeout=3000)


# ---------------------------------------------------------------------- Edit
def undo(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.run()
    assert p.layer_names() == ["picture"] and p.status().startswith("Undid")


def redo(p: Person) -> None:
    p.open_picture()
    p.layers.add_layer()
    p.app.workspace.undo()
    p.run()
    assert p.layer_names() == ["Layer 2", "picture"] and p.status().startswith("Redid")


def paste_image(p: Person) -> None:
    p.open_picture()
    red = QImage(16, 16, QImage.Format.Format_RGB32)
    red.fill(QColor(255, 0, 0))
    QGuiApplication.clipboard().setImage(red)
    p.run()
    assert p.layer_names() == ["Pasted", "picture"] and p.canvas.image.pixelColor(32, 32).getRgb() == (255, 0, 0, 255)


def select_all(p: Person) -> None:
    p.open_picture(48, 32)
    p.run()
    assert p.document.selection == Rect(0, 0, 48, 32)
    assert not p.window.isWindowModified(), "a selection alone marked the canvas as changed"


def deselect(p: Person) -> None:
    p.open_picture()
    p.app.workspace.actions["select-all"].trigger()
    p.run()
    assert p.document.selection is None


def quick_mask(p: Person) -> None:
    p.open_picture()
    before = p.document.composite().copy()
    p.run()
    assert p.action.isChecked()
    from tests.ui.canvas_support import drag

    drag(p.qtbot, p.canvas, [(10, 10), (40, 40)])
    assert p.document.mask.any() and np.array_equal(p.document.composite(), before)


def invert_mask(p: Person) -> None:
    p.open_picture()
    p.run()
    assert p.document.mask.min() == 255 and p.canvas.display.tint() is not None


def clear_mask(p: Person) -> None:
    p.open_picture()
    p.app.workspace.actions["invert-mask"].trigger()
    p.run()
    assert not p.document.mask.any() and p.canvas.display.tint() is None


# ---------------------------------------------------------------------- View
def panels_menu(p: Person) -> None:
    """View > Panels lists every dock and canvas bar, each ticked while it shows."""
    entries = {action.text(): action for action in p.action.menu().actions()}
    assert set(entries) >= {"Prompt", "Layers", "History", "Gallery", "Chat", "Tools", "Tool options"}
    assert all(action.isChecked() for action in entries.values())


def toggles_panel(title: str):
    def check(p: Person) -> None:
        panels = [*p.window.findChildren(QDockWidget), *p.window.findChildren(QToolBar)]
        widget = next(w for w in panels if w.toggleViewAction() is p.action)
        assert not widget.isHidden() and p.action.isChecked()
        p.run()
        assert widget.isHidden() and not p.action.isChecked(), f"{title} still shows"
        p.run()
        assert not widget.isHidden() and p.action.isChecked()

    check.__doc__ = f"View > Panels > {title} hides the panel and shows it again."
    return check


def fit_to_window(p: Person) -> None:
    p.open_picture(64, 64)
    p.canvas.actual_size()
    p.run()
    shown = p.canvas.image_to_widget(QRectF(0, 0, 64, 64))
    assert p.canvas.zoom > 2 and QRectF(p.canvas.rect()).contains(shown)


def actual_size(p: Person) -> None:
    p.open_picture(64, 64)
    p.run()
    assert p.canvas.zoom == 1.0 and "100%" in p.app.workspace.position_label.text()


def show_mask(p: Person) -> None:
    p.open_picture()
    p.app.workspace.actions["invert-mask"].trigger()
    centre = p.canvas.image_to_widget(QRectF(32.5, 32.5, 0, 0)).topLeft().toPoint()
    tinted = p.canvas.grab().toImage().pixelColor(centre)
    p.run()
    plain = p.canvas.grab().toImage().pixelColor(centre)
    assert not p.action.isChecked() and plain != tinted
    assert plain.getRgb()[:3] == p.canvas.image.pixelColor(32, 32).getRgb()[:3]


def focus_chat_input(p: Person) -> None:
    p.app.gallery.dock.raise_()
    p.run()
    assert p.app.chat.dock.isVisible() and QApplication.focusWidget() is p.app.chat.panel.input


def theme_menu(p: Person) -> None:
    entries = [action for action in p.action.menu().actions()]
    assert [a.text().replace("&", "") for a in entries] == ["Follow the System", "Dark", "Light"]
    assert [a.isChecked() for a in entries] == [True, False, False]


def _window_lightness() -> int:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness()


def theme(choice: str):
    def check(p: Person) -> None:
        if choice == "system":
            p.app.theme_actions["light"].trigger()
        p.run()
        assert p.action.isChecked() and Settings.load(p.app.settings_path).theme == choice
        # the desktop says nothing here (offscreen): System means the dark default
        assert (_window_lightness() > 200) if choice == "light" else (_window_lightness() < 80)

    check.__doc__ = f"View > Theme > {choice}: the whole window recolours at once and the choice is saved."
    return check


# ---------------------------------------------------------------------- Settings
def setting(field: str):
    def check(p: Person) -> None:
        before = p.action.isChecked()
        p.run()
        assert p.action.isChecked() is not before
        assert getattr(Settings.load(p.app.settings_path), field) is (not before)

    check.__doc__ = f"Settings: the {field} tick flips and is saved at once."
    return check


def image_engine(p: Person) -> None:
    """Settings > Image Engine…: an address is checked as typed; This computer, Save: said and saved."""
    p.run()
    dialog = p.app.image_engine.dialog
    assert dialog.isVisible()
    dialog.server.click()
    QTest.keyClicks(dialog.url, "192.168.1.20:8188")
    assert "no http:// or https:// in front" in dialog.status.text()
    dialog.local.click()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible() and p.status() == "Images are made on this computer"
    assert Settings.load(p.app.settings_path).image_engine == "local"


def model_folders(p: Person) -> None:
    """Settings > Model Folders…, Add folder…: the chosen folder is listed, used and remembered."""
    folder = p.folder / "my-models"
    folder.mkdir()
    p.run()
    dialog = p.app.connections.folders_dialog
    assert dialog.isVisible()
    answer = answer_file_dialog(folder)
    dialog.add_button.click()
    answer.check()
    p.qtbot.waitUntil(lambda: dialog.row_for(str(folder)) >= 0, timeout=5000)
    assert str(folder) in Settings.load(p.app.settings_path).extra_model_dirs
    assert p.status().startswith("Model folders:")


def chat_engine(p: Person) -> None:
    """Settings > Chat Engine…: an address is checked as typed; This computer, Save: saved, chat stays local."""
    p.run()
    dialog = p.app.connections.engine_dialog
    assert dialog.isVisible()
    dialog.server.click()
    QTest.keyClicks(dialog.url, "user:pw@")
    assert dialog.status.text().startswith("⚠")
    dialog.local.click()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible() and Settings.load(p.app.settings_path).chat_engine == "local"


# ---------------------------------------------------------------------- Help
def keyboard_shortcuts(p: Person) -> None:
    def read(dialog: ShortcutsDialog) -> None:
        listed = {keys for keys, _what in dialog.listed()}
        assert listed >= {native_text(keys) for keys, _what in p.window.shortcuts}
        screen = dialog.screen().availableGeometry()
        assert dialog.frameGeometry().height() <= screen.height() and dialog.height() <= 768
        QTest.keyClick(dialog, Qt.Key.Key_Escape)

    answer = answer_dialog(ShortcutsDialog, read)
    p.run()
    assert not answer.check().isVisible()


def about(p: Person) -> None:
    def read(box: QMessageBox) -> None:
        assert __version__ in box.text()
        box.button(QMessageBox.StandardButton.Ok).click()

    answer = answer_dialog(QMessageBox, read)
    p.run()
    answer.check()
