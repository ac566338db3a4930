"""Every file question Atelier asks opens a real dialog a person can fill in, and what they chose is used.

File > Open passed a pathlib.Path to QFileDialog and raised a TypeError on every try, while the suite
stayed green because tests replaced the question. Here each place that asks for a file or a folder is
clicked as a person clicks it, and the real (non-native) dialog is typed into and accepted. The menu
commands (Open, Save, Save As, Export) are rows of test_commands.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams
from desktop.core.settings import Settings
from tests.ui.user_actions import answer_file_dialog

ROOT = Path(__file__).resolve().parents[2]


def test_no_file_dialog_is_made_outside_the_one_helper():
    made = re.compile(r"\bQFileDialog\s*\(|\bQFileDialog\.get\w+\(")  # a new dialog, or a static question
    users = [str(source.relative_to(ROOT)) for source in (ROOT / "desktop").rglob("*.py")
             if source.name != "file_dialog.py" and made.search(source.read_text(encoding="utf-8"))]
    assert not users, f"ask through desktop/ui/file_dialog.py instead (paths as text, non-native): {users}"


def gallery_inspect(app, qtbot, folder: Path) -> None:
    """Gallery > Inspect…: any image file's settings are read and shown."""
    picture = save_generation(Image.new("RGB", (64, 64), (10, 20, 30)),
                              GenerationParams(prompt="a heron in fog", width=64, height=64, seed=7), folder / "elsewhere",
                              model_name="tiny")
    dock = app.gallery.dock
    dock.raise_()
    answer = answer_file_dialog(picture)
    qtbot.mouseClick(dock.buttons["inspect"], Qt.MouseButton.LeftButton)
    answer.check()
    assert "a heron in fog" in dock.details.toPlainText()


def chat_export(app, qtbot, folder: Path) -> None:
    """Chat > Chats > Export…: the conversation is written as Markdown where the person chose."""
    store, panel = app.chat_store, app.chat.panel
    conversation = store.create_conversation("Herons")
    store.add_message(conversation.id, "user", "ideas for herons?")
    panel.open_conversation(conversation.id)
    panel.chats_toggle.click()
    panel.conversations.items.setCurrentRow(0)
    assert panel.conversations.export_button.height() > 10, "the Export button is squeezed out of sight"
    target = folder / "herons.md"
    answer = answer_file_dialog(target)
    qtbot.mouseClick(panel.conversations.export_button, Qt.MouseButton.LeftButton)
    answer.check()
    assert "ideas for herons?" in target.read_text(encoding="utf-8")


def models_import(app, qtbot, folder: Path) -> None:
    """Models window > Import file…: the chosen file goes to the importer (a broken one is refused by name)."""
    broken = folder / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    window = app.models.open_window()
    answer = answer_file_dialog(broken)
    qtbot.mouseClick(window.import_button, Qt.MouseButton.LeftButton)
    answer.check()
    qtbot.waitUntil(lambda: "broken.safetensors" in window.status.text(), timeout=30000)


def models_add_folder(app, qtbot, folder: Path) -> None:
    """Models window > Add folder…: the folder is listed, scanned and remembered."""
    extra = folder / "more-models"
    extra.mkdir()
    window = app.models.open_window()
    answer = answer_file_dialog(extra)
    qtbot.mouseClick(window.add_folder_button, Qt.MouseButton.LeftButton)
    answer.check()
    assert window.folder_list.item(0).text() == str(extra)
    assert Settings.load(app.settings_path).extra_model_dirs == [str(extra)]


def welcome_model_file(app, qtbot, folder: Path) -> None:
    """Welcome > Add a model file…: a pickle is refused at once, saying why."""
    pickle_file = folder / "old.ckpt"
    pickle_file.write_bytes(b"\x80\x04K\x01.")
    answer = answer_file_dialog(pickle_file)
    qtbot.mouseClick(app.welcome.add_file_button, Qt.MouseButton.LeftButton)
    answer.check()
    assert "pickle" in app.welcome.message.text().lower()


def welcome_models_folder(app, qtbot, folder: Path) -> None:
    """Welcome > Use a models folder…: an empty folder is remembered with what to put in it."""
    empty = folder / "my-models"
    empty.mkdir()
    answer = answer_file_dialog(empty)
    qtbot.mouseClick(app.welcome.folder_button, Qt.MouseButton.LeftButton)
    answer.check()
    assert "No usable Stable Diffusion model" in app.welcome.message.text()
    assert str(empty) in Settings.load(app.settings_path).extra_model_dirs


ASKING = {check.__name__: check for check in (gallery_inspect, chat_export, models_import, models_add_folder,
                                               welcome_model_file, welcome_models_folder)}


@pytest.mark.parametrize("name", list(ASKING))
def test_each_place_that_asks_for_a_file_takes_what_the_person_chose(name, qtbot, start_atelier, tmp_path):
    app = start_atelier({})
    ASKING[name](app, qtbot, tmp_path)
