"""File actions on the real window: new, open, save and save as (.ora), export, recent files, paste,
bad files refused with a message, the unsaved-changes question, autosave and crash recovery."""

import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
from canvas_support import gradient, write_png
from PIL import Image
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from desktop.core.document import Document, Layer
from desktop.core.edits import AddGeneratedLayer, AddLayer, SetLayerOpacity
from desktop.core.openraster import load_ora
from desktop.core.recovery import find_leftovers, recovery_folder


def test_new_canvas_from_the_size_dialog_answer(workspace):
    docs = workspace.documents
    docs.ask_new_canvas = lambda width, height: (320, 200, (0, 0, 0, 0))
    workspace.actions["new"].trigger()
    document = docs.document
    assert (document.width, document.height) == (320, 200) and document.layers[0].pixels[0, 0, 3] == 0
    assert workspace.canvas.document is document and workspace.window.windowTitle() == "Untitled[*] — Atelier"


def test_save_as_then_open_round_trips_layers_through_the_file_actions(workspace, tmp_path):
    docs = workspace.documents
    document = Document.from_pixels(gradient(), "Background")
    top = Layer.blank("Glaze", 32, 16, (10, 200, 30, 255), x=5, y=7)
    document.history.do(AddLayer(top))
    document.history.do(SetLayerOpacity(top.id, 0.4))
    docs.set_document(document)
    target = tmp_path / "project"
    docs.ask_project_path = lambda suggestion: str(target)
    workspace.actions["save"].trigger()  # never saved: Save asks where, like Save As
    saved = tmp_path / "project.ora"
    assert saved.is_file() and not document.modified and workspace.window.windowTitle() == "project.ora[*] — Atelier"
    assert docs.settings.recent_files[0] == str(saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist()[0] == "mimetype" and archive.infolist()[0].compress_type == zipfile.ZIP_STORED
        assert {"stack.xml", "mergedimage.png"} <= set(archive.namelist())
    docs.ask_new_canvas = lambda width, height: (64, 64, (255, 255, 255, 255))
    workspace.actions["new"].trigger()
    docs.ask_open_path = lambda: str(saved)
    workspace.actions["open"].trigger()
    opened = docs.document
    assert [(l.name, l.x, l.y, round(l.opacity, 2)) for l in opened.layers] == [("Background", 0, 0, 1.0), ("Glaze", 5, 7, 0.4)]
    assert np.array_equal(opened.composite(), document.composite())
    workspace._fill_recent()
    assert workspace.recent_menu.actions()[0].text() == "project.ora"


def test_saving_twice_keeps_the_name_and_an_opened_png_is_saved_as_a_project(workspace, tmp_path):
    docs = workspace.documents
    picture = write_png(tmp_path / "photo.png", gradient())
    assert docs.open_path(picture)
    assert docs.document.title == "photo.png" and docs.document.layers[0].name == "photo"
    asked = []
    docs.ask_project_path = lambda suggestion: asked.append(suggestion) or str(tmp_path / "photo.ora")
    docs.document.history.do(AddLayer(Layer.blank("Ink", 8, 8, (0, 0, 0, 255))))
    assert docs.save()
    assert asked == [str(tmp_path / "photo.ora")] and Image.open(picture).size == (64, 64)  # the PNG is untouched
    docs.document.history.undo()
    assert docs.save() and len(asked) == 1  # a project saves in place
    assert len(load_ora(tmp_path / "photo.ora").layers) == 1


def test_export_png_and_jpeg_carry_the_generation_settings(workspace, tmp_path):
    docs = workspace.documents
    document = Document.from_pixels(gradient(), "Background")
    text = "a red barn\nNegative prompt: blur\nSteps: 12, Sampler: Euler a, CFG scale: 6, Seed: 77, Size: 64x64, Model: tiny"
    document.history.do(AddGeneratedLayer(np.full((16, 16, 3), 90, np.uint8), "a red barn", 4, 4, text))
    docs.set_document(document)
    assert docs.export(tmp_path / "out.png")
    png = Image.open(tmp_path / "out.png")
    assert png.size == (64, 64) and png.text["parameters"].startswith("a red barn\nNegative prompt: blur")
    assert "Seed: 77" in png.text["parameters"]
    assert np.array_equal(np.asarray(png.convert("RGBA")), document.composite())
    assert docs.export(tmp_path / "out.jpg")
    from desktop.core.metadata import read_metadata

    info = read_metadata(tmp_path / "out.jpg")
    assert info.prompt == "a red barn" and info.seed == 77
    errors = []
    docs.error.connect(errors.append)
    assert not docs.export(tmp_path / "out.tga") and ".png" in errors[0]


def test_bad_files_are_refused_with_a_message_and_nothing_changes(workspace, tmp_path):
    docs = workspace.documents
    document = Document.from_pixels(gradient(), "Keep me")
    docs.set_document(document)
    errors = []
    docs.error.connect(errors.append)
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(30000, 30000))
    assert not docs.open_path(huge)
    assert "30000" in errors[-1] or "too large" in errors[-1]
    broken = tmp_path / "broken.ora"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert not docs.open_path(broken) and "damaged" in errors[-1]
    truncated = tmp_path / "cut.png"
    data = write_png(tmp_path / "whole.png", gradient()).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    assert not docs.open_path(truncated) and "cut.png" in errors[-1]
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert not docs.open_path(text) and "not an image" in errors[-1]
    assert docs.document is document and workspace.canvas.document is document  # the app is alive, unchanged
    assert workspace.layers.add_layer()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size, with a few bytes of data: what a hostile file looks like."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_paste_from_the_clipboard_makes_a_layer_or_a_canvas(workspace):
    docs = workspace.documents
    from desktop.ui.canvas.raster import rgba_image

    QGuiApplication.clipboard().setImage(rgba_image(gradient(32, 16)))
    workspace.actions["paste"].trigger()
    assert (docs.document.width, docs.document.height) == (32, 16)  # nothing open: the paste is the canvas
    workspace.actions["paste"].trigger()
    assert [layer.name for layer in docs.document.layers] == ["Pasted", "Pasted"]
    assert np.array_equal(docs.document.layers[1].pixels, gradient(32, 16))


def test_closing_with_unsaved_changes_asks_and_discard_closes(qtbot, workspace):
    docs, window = workspace.documents, workspace.window
    docs.set_document(Document.from_pixels(gradient(), "Work"))
    docs.document.history.do(AddLayer(Layer.blank("More", 8, 8)))
    window.close()
    assert window.isVisible() and docs.close_question.isVisible()  # asked, without blocking
    docs.close_question.button(QMessageBox.StandardButton.Cancel).click()
    assert window.isVisible()
    window.close()
    docs.close_question.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_autosave_writes_a_recovery_file_and_a_clean_save_removes_it(workspace, app_paths, tmp_path):
    docs = workspace.documents
    docs.settings.autosave_minutes = 0.0001
    docs.set_document(Document.from_pixels(gradient(), "Work"))
    docs.document.history.do(AddLayer(Layer.blank("More", 8, 8)))
    docs.autosaver._background = False
    time.sleep(0.02)  # past the (tiny) interval since the first unsaved change
    docs.autosave_tick()
    assert docs.autosaver.project.is_file()
    assert [layer.name for layer in load_ora(docs.autosaver.project).layers] == ["Work", "More"]
    assert docs.save_as(tmp_path / "work.ora")
    assert not docs.autosaver.project.exists()


CRASHING_SESSION = """
import os, signal, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.core.settings import Settings
from desktop.core.document import Document, Layer
from desktop.core.edits import AddLayer
from desktop.ui.canvas.workspace import CanvasWorkspace
from desktop.ui.main_window import MainWindow
from pathlib import Path
window = MainWindow()
settings = Settings(autosave_minutes=0.0001)
workspace = CanvasWorkspace(window, settings, Path(sys.argv[1]) / "settings.json", Path(sys.argv[2]))
docs = workspace.documents
docs.set_document(Document.blank(48, 40))
docs.document.history.do(AddLayer(Layer.blank("Sketch", 20, 10, (9, 8, 7, 255), x=3, y=4)))
docs.autosaver._background = False
time.sleep(0.02)
docs.autosave_tick()
os.kill(os.getpid(), signal.SIGKILL)  # a crash: nothing runs after this
"""


def test_after_a_crash_the_next_start_offers_the_autosave_and_restores_the_layers(workspace, app_paths):
    folder = recovery_folder(app_paths.data_dir)
    run = subprocess.run([sys.executable, "-c", CRASHING_SESSION, str(app_paths.config_dir), str(folder)],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert len(find_leftovers(folder)) == 1
    docs = workspace.documents
    offered = []
    docs.ask_restore = lambda leftover: offered.append(leftover.describe()) or "restore"
    workspace.start()
    document = docs.document
    assert offered and "Untitled (never saved)" in offered[0]
    assert [(l.name, l.x, l.y) for l in document.layers] == [("Background", 0, 0), ("Sketch", 3, 4)]
    assert (document.width, document.height) == (48, 40) and document.modified
    docs.autosaver.wait()  # adopting rewrites the files on the autosave thread
    assert find_leftovers(folder) == []  # adopted: this session now keeps it safe
    assert docs.autosaver.project.is_file()


def test_a_declined_leftover_is_discarded(workspace, app_paths):
    folder = recovery_folder(app_paths.data_dir)
    run = subprocess.run([sys.executable, "-c", CRASHING_SESSION, str(app_paths.config_dir), str(folder)],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert run.returncode == -signal.SIGKILL, run.stderr
    workspace.documents.ask_restore = lambda leftover: "discard"
    workspace.start()
    assert workspace.documents.document is None and find_leftovers(folder) == []
    assert not list(folder.glob("autosave-*"))
