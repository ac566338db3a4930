"""The gallery index: real SQLite, real files; rebuilds from the folder, survives corruption and hand edits."""

from __future__ import annotations

import json
import os
import time

import pytest
from PIL import Image

from desktop.core.gallery_index import GalleryIndex, fts_query
from desktop.core.outputs import save_generation
from desktop.core.params import GenerationParams
from desktop.core.thumbnails import ThumbnailCache
from tests.core.metadata_samples import A1111_TEXT, png

PROMPTS = ["a red fox in the snow", "a blue whale, deep ocean", "red lighthouse at dusk", "portrait of a fox"]


def _fill(outputs, prompts=PROMPTS, model="tiny-sd15"):
    paths = []
    for seed, prompt in enumerate(prompts):
        params = GenerationParams(prompt=prompt, seed=seed, width=64, height=64)
        paths.append(save_generation(Image.new("RGB", (64, 64), (seed * 40, 90, 90)), params, outputs,
                                     model_name=model if seed % 2 == 0 else "other-model"))
        os.utime(paths[-1], (1_700_000_000 + seed, 1_700_000_000 + seed))
    return paths


@pytest.fixture
def outputs(tmp_path):
    folder = tmp_path / "outputs"
    folder.mkdir()
    return folder


def test_sync_indexes_the_folder_and_search_is_newest_first(tmp_path, outputs):
    paths = _fill(outputs)
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    result = index.sync()
    assert (result.added, result.removed) == (4, 0)
    assert [e.prompt for e in index.search()] == list(reversed(PROMPTS))  # saved later = newer
    assert [e.path for e in index.search("fox")] == [str(paths[3]), str(paths[0])]
    assert [e.prompt for e in index.search("red")] == ["red lighthouse at dusk", "a red fox in the snow"]
    assert [e.prompt for e in index.search("lightho")] == ["red lighthouse at dusk"]  # prefix match
    assert index.search("fox", model="tiny-sd15")[0].prompt == "a red fox in the snow"
    assert index.models() == ["other-model", "tiny-sd15"]
    assert index.count() == 4 and index.count("whale") == 1
    assert [e.prompt for e in index.search(limit=2, offset=1)] == [PROMPTS[2], PROMPTS[1]]
    entry = index.search("whale")[0]
    assert (entry.seed, entry.width, entry.height, entry.tool) == (1, 64, 64, "atelier")


def test_whatever_people_type_never_breaks_search(tmp_path, outputs):
    _fill(outputs)
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    for text in ['"', "AND", "fox OR", "*", "NEAR(", "a'b", "(((", "-fox", "prompt:fox", "😀", "fo\"x"]:
        index.search(text)
        assert fts_query(text).count('"') % 2 == 0
    assert index.search("   ") == index.search("")


def test_files_added_and_removed_by_hand_are_picked_up(tmp_path, outputs):
    paths = _fill(outputs)
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    paths[1].unlink()
    (outputs / "imported").mkdir()
    png(outputs / "imported" / "from-a1111.png", {"parameters": A1111_TEXT})
    (outputs / "notes.txt").write_text("not an image")
    (outputs / ".00009-1.png.tmp").write_bytes(b"half written")
    (outputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    result = index.sync()
    assert (result.added, result.removed) == (2, 1)
    a1111 = index.search("masterpiece")
    assert a1111[0].tool == "automatic1111" and a1111[0].model == "v1-5-pruned-emaonly"
    assert index.get(outputs / "broken.png").prompt == ""
    again = index.sync()
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


def test_an_image_changed_on_disk_is_read_again(tmp_path, outputs):
    paths = _fill(outputs)
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    save_generation(Image.new("RGB", (64, 64)), GenerationParams(prompt="an owl", seed=9, width=64, height=64),
                    outputs, model_name="m", path=paths[0])
    assert index.sync().updated == 1
    assert index.search("fox")[0].path == str(paths[3]) and index.count("owl") == 1


def test_add_indexes_a_new_image_without_a_scan(tmp_path, outputs):
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    path = _fill(outputs, ["a quiet pond"])[0]
    entry = index.add(path)
    assert entry.prompt == "a quiet pond" and index.count("pond") == 1


def test_favourites_survive_a_corrupt_database(tmp_path, outputs):
    paths = _fill(outputs)
    db = tmp_path / "gallery.db"
    index = GalleryIndex(db, outputs)
    index.sync()
    index.set_favourite(paths[2])
    assert [e.path for e in index.search(favourite=True)] == [str(paths[2])]
    index.close()
    db.write_bytes(b"this is not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.unlink(str(db) + suffix)
    rebuilt = GalleryIndex(db, outputs)
    assert rebuilt.rebuilt_from is not None and rebuilt.rebuilt_from.read_bytes().startswith(b"this is not")
    assert rebuilt.count() == 0
    rebuilt.sync()
    assert rebuilt.count() == 4
    assert [e.path for e in rebuilt.search(favourite=True)] == [str(paths[2])]
    assert json.loads(rebuilt.favourites_path.read_text()) == [paths[2].name]


def test_a_missing_database_is_rebuilt_from_the_files(tmp_path, outputs):
    _fill(outputs)
    db = tmp_path / "gallery.db"
    GalleryIndex(db, outputs).sync()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.unlink(str(db) + suffix)
    index = GalleryIndex(db, outputs)
    assert index.sync().added == 4


def test_since_filter(tmp_path, outputs):
    _fill(outputs)
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    assert index.count(since=time.time() - 3600) == 4  # Atelier's record says when it was made: now
    assert index.count(since=time.time() + 3600) == 0


def test_delete_moves_the_file_to_the_trash(tmp_path, outputs, monkeypatch):
    from send2trash import plat_other

    trash_home = tmp_path / "xdg-data"
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(trash_home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(trash_home / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(trash_home / "Trash"))
    paths = _fill(outputs)
    from desktop.core.draft import latents_path

    latents_path(paths[0]).write_bytes(b"latents of a Fast mode draft")  # Finish with Full VAE's sidecar
    index = GalleryIndex(tmp_path / "gallery.db", outputs)
    index.sync()
    index.set_favourite(paths[0])
    index.delete(paths[0])
    assert not paths[0].exists() and index.count() == 3 and index.count(favourite=True) == 0
    assert (trash_home / "Trash" / "files" / paths[0].name).exists()
    assert not latents_path(paths[0]).exists()  # the draft's latents went with it, to the trash too
    assert (trash_home / "Trash" / "files" / latents_path(paths[0]).name).exists()
    assert json.loads(index.favourites_path.read_text()) == []


def test_thumbnails_are_made_once_and_remade_when_the_image_changes(tmp_path, outputs):
    path = _fill(outputs, ["x"])[0]
    cache = ThumbnailCache(tmp_path / "thumbs")
    assert cache.cached(path) is None
    thumb = cache.get(path)
    assert thumb.suffix == ".jpg" and cache.cached(path) == thumb
    with Image.open(thumb) as image:
        assert max(image.size) <= 256
    big = Image.new("RGBA", (1024, 512), (0, 0, 0, 0))
    big.save(path)
    os.utime(path, (1_800_000_000, 1_800_000_000))
    second = cache.get(path)
    assert second != thumb and second.suffix == ".png"
    with Image.open(second) as image:
        assert image.size == (256, 128)
    (outputs / "bad.png").write_bytes(b"not an image")
    assert cache.get(outputs / "bad.png") is None and cache.get(outputs / "missing.png") is None
