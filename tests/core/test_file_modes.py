"""Every file Atelier saves (images, projects, settings, databases, exports) gets the mode any new file
gets under the user's umask, keeps an existing file's mode when it replaces it, and is written through
a symlink to the link's target, leaving the link a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.core.document import Document, Layer
from desktop.core.params import GenerationParams


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


def _save_project(path: Path) -> None:
    from desktop.core.openraster import save_ora

    save_ora(Document.blank(16, 16), path)


def _save_image(path: Path) -> None:
    from desktop.core.outputs import save_generation

    save_generation(Image.new("RGB", (8, 8)), GenerationParams(prompt="x", width=64, height=64), path.parent,
                    model_name="m", path=path)


def _export_image(path: Path) -> None:
    from desktop.core.metadata.writer import export_image

    export_image(Image.new("RGB", (8, 8)), GenerationParams(prompt="x", width=64, height=64), path, model_name="m")


def _save_settings(path: Path) -> None:
    from desktop.core.settings import Settings

    Settings(width=768).save(path)


def _chat_database(path: Path) -> None:
    from desktop.core.chat_store import ChatStore

    store = ChatStore(path)
    store.create_conversation("hello", model="m")
    store.close()


def _gallery_database(path: Path) -> None:
    from desktop.core.gallery_index import GalleryIndex

    GalleryIndex(path, path.parent / "outputs").close()


# (what, file name, how the app writes it)
WRITERS = [
    ("project", "work.ora", _save_project),
    ("generated image", "00001-5.png", _save_image),
    ("exported image", "out.webp", _export_image),
    ("settings", "settings.json", _save_settings),
    ("chat database", "chat.sqlite3", _chat_database),
    ("gallery database", "gallery.db", _gallery_database),
]
NAMES = [what for what, _name, _write in WRITERS]


@pytest.mark.parametrize("what, name, write", WRITERS, ids=NAMES)
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_follows_the_umask(tmp_path, umask, what, name, write, mask, expected):
    umask(mask)
    write(tmp_path / name)
    assert oct(_mode(tmp_path / name)) == oct(expected), what


@pytest.mark.parametrize("what, name, write", WRITERS, ids=NAMES)
def test_replacing_a_file_keeps_its_mode(tmp_path, umask, what, name, write):
    umask(0o077)  # would make a new file 0600: the old file's 0640 must win
    path = tmp_path / name
    write(path)
    os.chmod(path, 0o640)
    write(path)
    assert oct(_mode(path)) == oct(0o640), what


@pytest.mark.parametrize("what, name, write", WRITERS, ids=NAMES)
def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path, umask, what, name, write):
    umask(0o022)
    real = tmp_path / "real" / name
    real.parent.mkdir()
    write(real)
    before = real.stat().st_mtime_ns
    os.chmod(real, 0o604)
    link = tmp_path / "link" / name
    link.parent.mkdir()
    link.symlink_to(real)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(real), what
    assert oct(_mode(real)) == oct(0o604)
    assert real.stat().st_mtime_ns >= before
    assert sorted(p.name for p in link.parent.iterdir()) == [name]  # nothing written beside the link


def test_the_signing_key_is_private_from_the_first_byte(tmp_path, umask):
    from desktop.core.atomic import write_bytes_atomic

    umask(0o022)
    write_bytes_atomic(tmp_path / "key.pem", b"secret", mode=0o600)
    assert oct(_mode(tmp_path / "key.pem")) == oct(0o600)


def test_a_project_saved_twice_stays_readable_by_the_group(tmp_path, umask):
    """The reported case: overwriting a 0644 project made it 0600 (tempfile.mkstemp's mode)."""
    from desktop.core.edits import AddLayer
    from desktop.core.openraster import load_ora, save_ora

    umask(0o022)
    path = tmp_path / "shared.ora"
    document = Document.blank(16, 16)
    save_ora(document, path)
    document.history.do(AddLayer(Layer("ink", np.zeros((4, 4, 4), np.uint8))))
    save_ora(document, path)
    assert oct(_mode(path)) == oct(0o644) and len(load_ora(path).layers) == 2
