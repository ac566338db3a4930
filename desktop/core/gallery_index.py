"""The gallery index: one SQLite row per image in the outputs folder, full-text search on prompts.

The files are the truth and the index is a cache of them: `sync()` adds what appeared and drops what
vanished (files moved in or out by hand are fine), and a missing or corrupt database is set aside and
rebuilt from the files. Favourites are the one thing only the index knows, so they are also written to a
small JSON file beside it and survive a rebuild.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from desktop.core import json_text
from desktop.core.atomic import create_with_umask, write_text_atomic
from desktop.core.metadata import read_metadata

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
SCHEMA_VERSION = "1"
_COLUMNS = "path, mtime, created, model, seed, width, height, prompt, tool, favourite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,          -- relative to the outputs folder, '/'-separated
    mtime REAL NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    seed INTEGER,
    width INTEGER,
    height INTEGER,
    prompt TEXT NOT NULL DEFAULT '',
    tool TEXT NOT NULL DEFAULT '',
    favourite INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS images_created ON images (created DESC, path DESC);
CREATE INDEX IF NOT EXISTS images_model ON images (model);
CREATE VIRTUAL TABLE IF NOT EXISTS prompts USING fts5 (prompt, content='images', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS images_ai AFTER INSERT ON images BEGIN
    INSERT INTO prompts (rowid, prompt) VALUES (new.id, new.prompt);
END;
CREATE TRIGGER IF NOT EXISTS images_ad AFTER DELETE ON images BEGIN
    INSERT INTO prompts (prompts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
END;
CREATE TRIGGER IF NOT EXISTS images_au AFTER UPDATE OF prompt ON images BEGIN
    INSERT INTO prompts (prompts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
    INSERT INTO prompts (rowid, prompt) VALUES (new.id, new.prompt);
END;
"""


@dataclass(frozen=True)
class GalleryEntry:
    """One indexed image, as the gallery shows it."""

    path: str  # absolute
    mtime: float
    created: float
    model: str
    seed: int | None
    width: int | None
    height: int | None
    prompt: str
    tool: str
    favourite: bool


@dataclass(frozen=True)
class SyncResult:
    """What one scan of the outputs folder changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0


def fts_query(text: str) -> str:
    """What a person typed -> an FTS5 query: every word must appear, as a word or a word's start."""
    words = re.findall(r"\w+", text)[:32]
    return " AND ".join(f'"{word}"*' for word in words)


def _created(info, mtime: float) -> float:
    stamp = info.extra.get("created")
    if isinstance(stamp, str):
        try:
            return datetime.datetime.fromisoformat(stamp[:40]).timestamp()
        except (ValueError, OverflowError, OSError):
            pass
    return mtime


class GalleryIndex:
    """The searchable list of images in the outputs folder, kept in SQLite (WAL)."""

    def __init__(self, db_path: Path, outputs_dir: Path) -> None:
        self.db_path, self.outputs_dir = Path(db_path), Path(outputs_dir)
        self.favourites_path = self.db_path.with_name(self.db_path.stem + "-favourites.json")
        self._lock = threading.RLock()  # one connection shared by the GUI and a background sync
        self.rebuilt_from: Path | None = None  # where a corrupt database was set aside, if it was
        self._db = self._open()

    # -- opening and repairing -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        create_with_umask(self.db_path)  # SQLite makes new files 0644 whatever the umask
        db = sqlite3.connect(self.db_path, check_same_thread=False, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            db.executescript(_SCHEMA)
            version = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                db.commit()
            elif version[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema {version[0]!r} is not {SCHEMA_VERSION!r}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _open(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as error:
            aside = self.db_path.with_name(f"{self.db_path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            log.warning("gallery index %s is unreadable (%s): kept it as %s and rebuilding", self.db_path, error, aside)
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(self.db_path) + suffix)
                if source.exists():
                    os.replace(source, Path(str(aside) + suffix))
            self.rebuilt_from = aside
            return self._connect()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- keeping up with the folder --------------------------------------------------------------
    def _relative(self, path: str | Path) -> str:
        path = Path(path)
        if not path.is_absolute():
            path = self.outputs_dir / path
        return path.resolve().relative_to(self.outputs_dir.resolve()).as_posix()

    def _scan(self) -> Iterator[tuple[str, os.stat_result]]:
        root = os.path.join(str(self.outputs_dir), "")
        stack = [root]
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    for entry in entries:
                        name = entry.name
                        if name.startswith("."):  # temp files of atomic writes, hidden folders
                            continue
                        if os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                            try:
                                stat = entry.stat()
                            except OSError:
                                continue
                            relative = entry.path[len(root):]
                            yield (relative if os.sep == "/" else relative.replace(os.sep, "/")), stat
                        elif entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
            except OSError:
                continue

    def _row(self, relative: str, stat: os.stat_result, favourite: bool) -> tuple:
        info = read_metadata(self.outputs_dir / relative)
        return (relative, stat.st_mtime, stat.st_size, _created(info, stat.st_mtime), info.model or "", info.seed
                if info.seed is None or abs(info.seed) < 2**63 else None, info.width, info.height,
                info.prompt or "", info.tool or "", int(favourite))

    def sync(self) -> SyncResult:
        """Scan the outputs folder: index new and changed images, forget vanished ones."""
        start = time.perf_counter()
        with self._lock:
            known = {row[0]: (row[1], row[2]) for row in self._db.execute("SELECT path, mtime, size FROM images")}
        favourites = self._saved_favourites()  # restores them after a rebuild, and for files moved back in
        seen: set[str] = set()
        fresh: list[tuple] = []
        updated = 0
        for relative, stat in self._scan():
            seen.add(relative)
            before = known.get(relative)
            if before == (stat.st_mtime, stat.st_size):
                continue
            updated += before is not None
            fresh.append(self._row(relative, stat, relative in favourites))
        gone = [path for path in known if path not in seen]
        with self._lock, self._db:
            self._db.executemany("DELETE FROM images WHERE path = ?", ((p,) for p in gone))
            self._db.executemany(
                "INSERT INTO images (path, mtime, size, created, model, seed, width, height, prompt, tool, favourite) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET mtime=excluded.mtime, "
                "size=excluded.size, created=excluded.created, model=excluded.model, seed=excluded.seed, "
                "width=excluded.width, height=excluded.height, prompt=excluded.prompt, tool=excluded.tool",
                fresh,
            )
        return SyncResult(len(fresh) - updated, updated, len(gone), time.perf_counter() - start)

    def add(self, path: str | Path) -> GalleryEntry | None:
        """Index one image now (right after saving it), without a folder scan."""
        relative = self._relative(path)
        stat = (self.outputs_dir / relative).stat()
        row = self._row(relative, stat, False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO images (path, mtime, size, created, model, seed, width, height, prompt, tool, favourite) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET mtime=excluded.mtime, "
                "size=excluded.size, created=excluded.created, model=excluded.model, seed=excluded.seed, "
                "width=excluded.width, height=excluded.height, prompt=excluded.prompt, tool=excluded.tool",
                row,
            )
        return self.get(path)

    # -- reading ---------------------------------------------------------------------------------
    def _where(self, text: str, model: str | None, favourite: bool | None, since: float | None) -> tuple[str, list]:
        clauses, args = [], []
        query = fts_query(text or "")
        if query:
            clauses.append("id IN (SELECT rowid FROM prompts WHERE prompts MATCH ?)")
            args.append(query)
        if model is not None:
            clauses.append("model = ?")
            args.append(model)
        if favourite is not None:
            clauses.append("favourite = ?")
            args.append(int(favourite))
        if since is not None:
            clauses.append("created >= ?")
            args.append(float(since))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def _entry(self, row: tuple) -> GalleryEntry:
        path, mtime, created, model, seed, width, height, prompt, tool, favourite = row
        return GalleryEntry(str(self.outputs_dir / path), mtime, created, model, seed, width, height, prompt, tool,
                            bool(favourite))

    def search(self, text: str = "", model: str | None = None, favourite: bool | None = None,
               since: float | None = None, limit: int = 200, offset: int = 0) -> list[GalleryEntry]:
        """Entries matching every filter, newest first. Never raises on what a person types."""
        where, args = self._where(text, model, favourite, since)
        sql = f"SELECT {_COLUMNS} FROM images{where} ORDER BY created DESC, path DESC LIMIT ? OFFSET ?"
        with self._lock:
            return [self._entry(r) for r in self._db.execute(sql, [*args, int(limit), int(offset)])]

    def count(self, text: str = "", model: str | None = None, favourite: bool | None = None,
              since: float | None = None) -> int:
        where, args = self._where(text, model, favourite, since)
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM images{where}", args).fetchone()[0]

    def models(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT model FROM images WHERE model != '' ORDER BY model")]

    def get(self, path: str | Path) -> GalleryEntry | None:
        try:
            relative = self._relative(path)
        except ValueError:
            return None
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM images WHERE path = ?", (relative,)).fetchone()
        return self._entry(row) if row else None

    # -- changing --------------------------------------------------------------------------------
    def _saved_favourites(self) -> set[str]:
        try:
            data = json_text.loads(self.favourites_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        return {p for p in data if isinstance(p, str)} if isinstance(data, list) else set()

    def set_favourite(self, path: str | Path, favourite: bool = True) -> None:
        relative = self._relative(path)
        with self._lock, self._db:
            self._db.execute("UPDATE images SET favourite = ? WHERE path = ?", (int(favourite), relative))
        self._write_favourites()

    def _write_favourites(self) -> None:
        with self._lock:
            paths = [r[0] for r in self._db.execute("SELECT path FROM images WHERE favourite = 1 ORDER BY path")]
        write_text_atomic(self.favourites_path, json.dumps(paths, indent=0))

    def delete(self, path: str | Path) -> None:
        """Move the image to the system trash and forget it. Raises OSError saying why when it cannot."""
        from send2trash import send2trash
        from send2trash.exceptions import TrashPermissionError

        relative = self._relative(path)
        target = self.outputs_dir / relative
        if target.exists():
            try:
                send2trash(str(target))
            except (TrashPermissionError, OSError) as error:
                raise OSError(f"could not move {target.name} to the trash: {error}. Nothing was deleted.") from error
            from desktop.core.draft import latents_path

            latents = latents_path(target)  # a Fast mode draft's latents (Finish with Full VAE) go with it
            if latents.exists():
                try:
                    send2trash(str(latents))
                except (TrashPermissionError, OSError) as error:  # the picture is gone; its 64 KB sidecar stays
                    log.warning("could not move %s to the trash: %s", latents.name, error)
        with self._lock, self._db:
            was_favourite = self._db.execute("SELECT favourite FROM images WHERE path = ?", (relative,)).fetchone()
            self._db.execute("DELETE FROM images WHERE path = ?", (relative,))
        if was_favourite and was_favourite[0]:
            self._write_favourites()
