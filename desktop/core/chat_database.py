"""Opening the chat database file: its schema, migrations, and recovery from a bad or busy file.

`PRAGMA user_version` holds the number of the last schema step applied. A new step is appended to
STEPS, never edited in place: files written by older versions of Atelier go through every step
after theirs, all in one transaction, after a backup copy of the file is made.
A corrupt file is moved aside (`*.corrupt-<time>`) and a fresh one started. A locked file, or one
from a newer Atelier, is left alone (moving a file another program holds open can corrupt it) and
this session uses a side file. An unusable folder leaves an in-memory database. `notice` says which.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.core.atomic import create_with_umask

# step 1: conversations and their ordered messages
_STEP_1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    temperature REAL NOT NULL DEFAULT 0.7,
    top_p REAL NOT NULL DEFAULT 0.9,
    max_new_tokens INTEGER NOT NULL DEFAULT 512,
    model TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content TEXT NOT NULL,
    created REAL NOT NULL,
    position INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_order ON messages (conversation_id, position);
"""

# step 2: how each message ended (streamed replies can stop or fail) and full-text search
_STEP_2 = """
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'complete'
    CHECK (status IN ('complete', 'streaming', 'stopped', 'error'));
ALTER TABLE messages ADD COLUMN error TEXT NOT NULL DEFAULT '';
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
"""

STEPS = (_STEP_1, _STEP_2)
SCHEMA_VERSION = len(STEPS)


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (trigger bodies hold semicolons of their own)."""
    statements, current = [], ""
    for line in script.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def needs_backup(conn: sqlite3.Connection, version: int) -> bool:
    """A file that already holds something is copied before it is changed; a brand new one is not."""
    if version > 0:
        return True
    return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Apply every step after from_version in one transaction (executescript would commit midway)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for number in range(from_version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(STEPS[number - 1]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@dataclass
class OpenedDatabase:
    """A connection ready for use, and what happened on the way (for the UI to show)."""

    connection: sqlite3.Connection
    path: Path  # the requested file, a side file, or ":memory:"
    notice: str = ""
    set_aside: Path | None = None  # where a corrupt file was moved
    backup: Path | None = None  # the copy made before a migration


class _NewerSchema(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _make_backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    target = path.with_name(f"{path.name}.bak-v{version}-{_stamp()}")
    temp = target.with_name(target.name + ".tmp")
    copy = sqlite3.connect(str(temp))
    try:
        conn.backup(copy)  # a consistent copy even with a WAL file beside it
    finally:
        copy.close()
    os.replace(temp, target)
    return target


def _connect(path: Path, busy_timeout_s: float, opened: OpenedDatabase) -> sqlite3.Connection:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        create_with_umask(path)  # SQLite makes new files 0644 whatever the umask; WAL/SHM files copy this mode
    conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed batch of tokens survives a power cut too, not only a killed process
        conn.execute("PRAGMA synchronous = FULL")
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("database disk image is malformed (quick_check failed)")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _NewerSchema(version)
        if version < SCHEMA_VERSION:
            if needs_backup(conn, version):
                opened.backup = _make_backup(conn, path, version)
            migrate(conn, version)
        # a reply that was streaming when the app died ends as "stopped", kept up to its saved tokens
        conn.execute("UPDATE messages SET status = 'stopped' WHERE status = 'streaming'")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_somewhere(path: Path, busy_timeout_s: float, opened: OpenedDatabase) -> sqlite3.Connection:
    try:
        return _connect(path, busy_timeout_s, opened)
    except _NewerSchema as newer:
        reason = f"{path.name} was written by a newer Atelier (schema {newer.version}) and is left untouched"
    except sqlite3.OperationalError as error:
        text = str(error)
        if any(word in text for word in ("unable to open", "readonly", "disk I/O", "is full")):
            raise  # the folder, not the file, is the problem: open_database falls back to memory
        if "locked" not in text and "busy" not in text:
            return _set_aside(path, busy_timeout_s, opened, error)  # e.g. a migration step that failed
        reason = f"{path.name} is locked by another program (is Atelier open twice?)"
    except sqlite3.DatabaseError as error:
        return _set_aside(path, busy_timeout_s, opened, error)
    side = path.with_name(f"{path.stem}-{_stamp()}{path.suffix}")
    opened.path = side
    opened.notice = f"Chats are saved to {side.name} for this session: {reason}."
    return _connect(side, busy_timeout_s, opened)


def _set_aside(path: Path, busy_timeout_s: float, opened: OpenedDatabase, error: Exception) -> sqlite3.Connection:
    """Move an unusable file (and its WAL) aside, keep it for rescue, and start a fresh one."""
    aside = path.with_name(f"{path.name}.corrupt-{_stamp()}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(path) + suffix)
        if part.exists():
            part.replace(Path(str(aside) + suffix))
    opened.set_aside = aside
    opened.notice = (f"The chat history could not be used ({error}); it was moved to {aside.name} and a "
                     "new, empty history was started.")
    return _connect(path, busy_timeout_s, opened)


def open_database(path: str | os.PathLike, busy_timeout_s: float = 2.0) -> OpenedDatabase:
    """Open (creating or migrating) the chat database; never raises for a bad, busy or unwritable file."""
    path = Path(path)
    opened = OpenedDatabase(connection=None, path=path)  # type: ignore[arg-type]
    try:
        opened.connection = _open_somewhere(path, busy_timeout_s, opened)
    except (sqlite3.Error, OSError) as error:
        # an unwritable folder or a full disk: keep chatting, but say that nothing is kept
        opened.path = Path(":memory:")
        opened.notice = (f"The chat history cannot be opened or created at {path} ({error}); chats in this "
                         "session will not be saved. Check that the folder is writable and has space.")
        opened.connection = _connect(opened.path, busy_timeout_s, opened)
    return opened
