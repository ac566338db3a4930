"""Chat history in SQLite: conversations, their messages, full-text search, crash-safe streaming.

One SQLite file (WAL journal; opening, migrations and recovery live in chat_database). A reply being
streamed is saved in small batches, so a crash or a kill keeps it up to its last saved tokens; on
the next open it reads as "stopped". `notice` says when the file could not be used as it was.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from desktop.core.atomic import write_text_atomic
from desktop.core.chat_database import open_database

ROLES = ("user", "assistant", "system", "tool")
STATUSES = ("complete", "streaming", "stopped", "error")
DEFAULT_TITLE = "New chat"
DATABASE_NAME = "chat.sqlite3"  # in the data folder: the window and `main.py chat` share one history
DEFAULT_SAMPLING = {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 512}  # a new conversation's settings


class ChatStoreError(ValueError):
    """A request to the chat store names something that does not exist or is not allowed."""


@dataclass(frozen=True)
class Conversation:
    """One conversation's settings: title, persona (system prompt), sampling, model."""

    id: int
    title: str
    system_prompt: str
    temperature: float
    top_p: float
    max_new_tokens: int
    model: str
    created: float
    updated: float


@dataclass(frozen=True)
class Message:
    """One saved message; `error` says what went wrong when status is "error"."""

    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    created: float
    position: int
    error: str = ""


@dataclass(frozen=True)
class SearchHit:
    """A conversation that matches a search, with a snippet of the matching text."""

    conversation: Conversation
    snippet: str
    message_id: int | None  # None when only the title matched


def suggest_title(text: str, length: int = 48) -> str:
    """A conversation title from its first message: the first line, cut at a word."""
    line = " ".join(text.strip().split())
    if len(line) <= length:
        return line or DEFAULT_TITLE
    cut = line[:length].rsplit(" ", 1)[0] or line[:length]
    return cut + "…"


def _fts_query(text: str) -> str:
    """Turn what a person typed into a safe FTS5 query: every word must match, the last as a prefix."""
    words = [w for w in text.replace('"', " ").replace("\x00", " ").split() if w]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


_CONVERSATION_COLUMNS = ", ".join(f.name for f in fields(Conversation))
_MESSAGE_COLUMNS = ", ".join(f.name for f in fields(Message))


class ChatStore:
    """The chat database: every read and write of conversations and messages goes through here."""

    def __init__(self, path: str | os.PathLike, *, flush_interval_s: float = 0.25, flush_pieces: int = 32,
                 busy_timeout_s: float = 2.0) -> None:
        opened = open_database(path, busy_timeout_s)
        self.requested_path = Path(path)
        self.path = opened.path  # differs when a locked database made us work on a side file
        self.notice = opened.notice  # what the UI should tell the user about how the history was opened
        self.set_aside = opened.set_aside  # where a corrupt database was moved
        self.backup = opened.backup  # the copy made before a migration
        self.flush_interval_s = flush_interval_s
        self.flush_pieces = flush_pieces
        self._lock = threading.RLock()  # the GUI and the worker may both write (tokens, edits)
        self._pending: dict[int, list[str]] = {}
        self._last_flush: dict[int, float] = {}
        self._conn = opened.connection

    def close(self) -> None:
        with self._lock:
            for message_id in list(self._pending):
                self._flush(message_id)
            self._conn.close()

    def __enter__(self) -> "ChatStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ conversations
    def create_conversation(self, title: str = DEFAULT_TITLE, *, system_prompt: str = "",
                            temperature: float = DEFAULT_SAMPLING["temperature"],
                            top_p: float = DEFAULT_SAMPLING["top_p"],
                            max_new_tokens: int = DEFAULT_SAMPLING["max_new_tokens"], model: str = "") -> Conversation:
        check_sampling(temperature, top_p, max_new_tokens)
        now = time.time()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO conversations (title, system_prompt, temperature, top_p, max_new_tokens, model, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (title.strip() or DEFAULT_TITLE, system_prompt, float(temperature), float(top_p),
                 int(max_new_tokens), model, now, now))
            return self.conversation(cursor.lastrowid)

    def conversation(self, conversation_id: int) -> Conversation:
        with self._lock:
            row = self._conn.execute(f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                                     (conversation_id,)).fetchone()
        if row is None:
            raise ChatStoreError(f"there is no conversation {conversation_id} (it may have been deleted)")
        return Conversation(*row)

    def list_conversations(self) -> list[Conversation]:
        """Most recently used first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations ORDER BY updated DESC, id DESC").fetchall()
        return [Conversation(*row) for row in rows]

    def rename_conversation(self, conversation_id: int, title: str) -> Conversation:
        return self.update_conversation(conversation_id, title=title.strip() or DEFAULT_TITLE)

    def update_conversation(self, conversation_id: int, **changes) -> Conversation:
        """Change title, system_prompt, temperature, top_p, max_new_tokens or model."""
        allowed = {"title", "system_prompt", "temperature", "top_p", "max_new_tokens", "model"}
        unknown = set(changes) - allowed
        if unknown:
            raise ChatStoreError(f"cannot change {', '.join(sorted(unknown))} of a conversation")
        current = self.conversation(conversation_id)
        check_sampling(changes.get("temperature", current.temperature), changes.get("top_p", current.top_p),
                        changes.get("max_new_tokens", current.max_new_tokens))
        if not changes:
            return current
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            self._conn.execute(f"UPDATE conversations SET {assignments}, updated = ? WHERE id = ?",
                               (*changes.values(), time.time(), conversation_id))
        return self.conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        with self._lock:
            for message in self.messages(conversation_id):
                self._pending.pop(message.id, None)
            self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Conversations whose title or messages contain every word typed (the last one as a prefix)."""
        query = _fts_query(text)
        if not query:
            return []
        hits: dict[int, SearchHit] = {}
        with self._lock:
            rows = self._conn.execute(
                "SELECT m.conversation_id, m.id, snippet(messages_fts, 0, '[', ']', '…', 12) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit * 4)).fetchall()
            words = [w.lower() for w in text.split()]
            for conversation in self.list_conversations():
                if all(w in conversation.title.lower() for w in words):
                    hits[conversation.id] = SearchHit(conversation, conversation.title, None)
        for conversation_id, message_id, snippet in rows:
            if conversation_id not in hits:
                hits[conversation_id] = SearchHit(self.conversation(conversation_id), snippet, message_id)
        ordered = sorted(hits.values(), key=lambda hit: hit.conversation.updated, reverse=True)
        return ordered[:limit]

    # ------------------------------------------------------------------ messages
    def messages(self, conversation_id: int) -> list[Message]:
        with self._lock:
            self._flush_conversation(conversation_id)
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY position",
                (conversation_id,)).fetchall()
        return [Message(*row) for row in rows]

    def message(self, message_id: int) -> Message:
        with self._lock:
            self._flush(message_id)
            row = self._conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?",
                                     (message_id,)).fetchone()
        if row is None:
            raise ChatStoreError(f"there is no message {message_id}")
        return Message(*row)

    def add_message(self, conversation_id: int, role: str, content: str, status: str = "complete") -> Message:
        if role not in ROLES:
            raise ChatStoreError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if status not in STATUSES:
            raise ChatStoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        self.conversation(conversation_id)  # a clear error for a missing conversation
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                position = self._conn.execute(
                    "SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE conversation_id = ?",
                    (conversation_id,)).fetchone()[0]
                cursor = self._conn.execute(
                    "INSERT INTO messages (conversation_id, role, content, status, created, position) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (conversation_id, role, content, status, now, position))
                self._conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return self.message(cursor.lastrowid)

    def start_reply(self, conversation_id: int, role: str = "assistant") -> Message:
        """An empty message in status "streaming", to be filled by append_to_message."""
        return self.add_message(conversation_id, role, "", status="streaming")

    def append_to_message(self, message_id: int, text: str) -> None:
        """Add streamed text; written in batches (every flush_interval_s or flush_pieces pieces)."""
        if not text:
            return
        with self._lock:
            pending = self._pending.setdefault(message_id, [])
            pending.append(text)
            last = self._last_flush.setdefault(message_id, time.monotonic())
            if len(pending) >= self.flush_pieces or time.monotonic() - last >= self.flush_interval_s:
                self._flush(message_id)

    def flush(self) -> None:
        with self._lock:
            for message_id in list(self._pending):
                self._flush(message_id)

    def _flush(self, message_id: int) -> None:
        pending = self._pending.pop(message_id, None)
        self._last_flush[message_id] = time.monotonic()
        if pending:
            self._conn.execute("UPDATE messages SET content = content || ? WHERE id = ?", ("".join(pending), message_id))

    def _flush_conversation(self, conversation_id: int) -> None:
        if not self._pending:
            return
        ids = {row[0] for row in self._conn.execute("SELECT id FROM messages WHERE conversation_id = ?",
                                                    (conversation_id,))}
        for message_id in ids & set(self._pending):
            self._flush(message_id)

    def finish_message(self, message_id: int, status: str = "complete", error: str = "") -> Message:
        """End a streamed message: complete, stopped (by the user) or error (with what went wrong)."""
        if status not in ("complete", "stopped", "error"):
            raise ChatStoreError(f"a message ends as complete, stopped or error, not {status!r}")
        with self._lock:
            self._flush(message_id)
            self._last_flush.pop(message_id, None)
            self._conn.execute("UPDATE messages SET status = ?, error = ? WHERE id = ?", (status, error, message_id))
            self._touch(message_id)
            return self.message(message_id)

    def edit_message(self, message_id: int, content: str) -> Message:
        with self._lock:
            self._flush(message_id)
            self._conn.execute("UPDATE messages SET content = ? WHERE id = ?", (content, message_id))
            self._touch(message_id)
            return self.message(message_id)

    def truncate_after(self, message_id: int, *, inclusive: bool = False) -> int:
        """Delete the messages after this one (and it too when inclusive); returns how many went.

        Edit-and-resend: edit_message(user message) then truncate_after(it).
        Regenerate: truncate_after(the last user message), then stream a new reply.
        """
        message = self.message(message_id)
        with self._lock:
            doomed = [row[0] for row in self._conn.execute(
                "SELECT id FROM messages WHERE conversation_id = ? AND position >= ?",
                (message.conversation_id, message.position if inclusive else message.position + 1))]
            for doomed_id in doomed:
                self._pending.pop(doomed_id, None)
                self._last_flush.pop(doomed_id, None)
            self._conn.execute("DELETE FROM messages WHERE conversation_id = ? AND position >= ?",
                               (message.conversation_id, message.position if inclusive else message.position + 1))
            self._touch(message_id)
        return len(doomed)

    def last_message(self, conversation_id: int, role: str | None = None) -> Message | None:
        found = [m for m in self.messages(conversation_id) if role is None or m.role == role]
        return found[-1] if found else None

    def _touch(self, message_id: int) -> None:
        self._conn.execute("UPDATE conversations SET updated = ? WHERE id = "
                           "(SELECT conversation_id FROM messages WHERE id = ?)", (time.time(), message_id))

    # ------------------------------------------------------------------ export
    def export_markdown(self, conversation_id: int) -> str:
        conversation = self.conversation(conversation_id)
        names = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
        lines = [f"# {conversation.title}", ""]
        if conversation.model:
            lines += [f"Model: {conversation.model}", ""]
        if conversation.system_prompt:
            lines += ["**System prompt:**", "", conversation.system_prompt, ""]
        for message in self.messages(conversation_id):
            marker = {"stopped": " (stopped)", "error": " (error)", "streaming": " (interrupted)"}.get(message.status, "")
            lines += [f"## {names[message.role]}{marker}", "", message.content.rstrip()]
            if message.error:
                lines += ["", f"> Error: {message.error}"]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def save_markdown(self, conversation_id: int, path: str | os.PathLike) -> Path:
        write_text_atomic(path, self.export_markdown(conversation_id))
        return Path(path)


def check_sampling(temperature: float, top_p: float, max_new_tokens: int) -> None:
    if not isinstance(temperature, (int, float)) or not 0.0 <= float(temperature) <= 2.0:
        raise ChatStoreError(f"temperature must be a number from 0 to 2, got {temperature!r}")
    if not isinstance(top_p, (int, float)) or not 0.0 < float(top_p) <= 1.0:
        raise ChatStoreError(f"top-p must be above 0 and at most 1, got {top_p!r}")
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or not 1 <= max_new_tokens <= 32768:
        raise ChatStoreError(f"max new tokens must be a whole number from 1 to 32768, got {max_new_tokens!r}")
