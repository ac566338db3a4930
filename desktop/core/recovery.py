"""Never lose work: autosave to a recovery file while there are unsaved changes, restore after a crash.

Each running app writes `autosave-<pid>-<token>.ora` plus a `.json` note (original path, time,
owner process) in the recovery folder. A note whose owner process is gone is a leftover: the
next start offers to restore it. A clean save or close removes the running app's files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.core import json_text
from desktop.core.atomic import write_text_atomic
from desktop.core.document import Document
from desktop.core.openraster import ProjectError, load_ora, save_ora

log = logging.getLogger(__name__)
STALE_TEMP_SECONDS = 24 * 3600


def recovery_folder(data_dir: Path) -> Path:
    return Path(data_dir) / "recovery"


def _process_started(pid: int) -> float | None:
    """When process `pid` started, or None if it is not running (pids are reused: compare both)."""
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:
        return None


@dataclass(frozen=True)
class RecoveryFile:
    """A leftover autosave from a session that ended without closing cleanly."""

    project: Path
    note: Path
    original_path: str | None
    saved_at: float  # seconds since the epoch
    title: str

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = f" ({self.original_path})" if self.original_path else " (never saved)"
        return f"{self.title}{where}, autosaved {when}"


def snapshot(document: Document) -> Document:
    """A private copy to save on another thread while the user keeps painting on the original."""
    # every field, pixels copied (groups, blend modes and other programs' attributes are values: shared)
    layers = [dataclasses.replace(layer, pixels=layer.pixels.copy()) for layer in document.layers]
    copy = Document(document.width, document.height, layers, path=document.path)
    copy.set_active_layer(document.active_layer.id if document.active_layer else None)
    if document.mask.any():
        copy.replace_mask(document.mask.copy())
    copy.set_selection(document.selection)
    return copy


class Autosaver:
    """Writes one document to its recovery file when it has unsaved changes and the interval has passed.

    Call `tick()` often (a timer every few seconds); call `discard()` after a clean save or close.
    """

    def __init__(
        self,
        document: Document,
        folder: Path,
        interval_minutes: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.interval_minutes = interval_minutes
        self._clock = clock
        self._background = background
        stem = f"autosave-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.project = self.folder / f"{stem}.ora"
        self.note = self.folder / f"{stem}.json"
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        """Watch another document (after New or Open); its changes start a fresh interval."""
        previous = getattr(self, "document", None)
        if previous is not None:
            previous.changed.disconnect(self._on_changed)
        self.document = document
        self._saved_revision: int | None = None
        self._dirty_since: float | None = None
        document.changed.connect(self._on_changed)

    def _on_changed(self, change) -> None:
        # The interval runs from the first change not yet autosaved, not from the last autosave.
        if self._dirty_since is None and change.kind != "active":
            self._dirty_since = self._clock()

    def due(self) -> bool:
        if self.interval_minutes <= 0 or not self.document.modified:
            return False
        if self.document.revision == self._saved_revision:
            return False
        if self._dirty_since is None:
            self._dirty_since = self._clock()
        return self._clock() - self._dirty_since >= self.interval_minutes * 60.0

    def tick(self) -> bool:
        """Autosave if due; remove the recovery file once the document is saved. True if it saved."""
        if not self.document.modified:
            self._dirty_since = None
            if self.project.exists() or self.note.exists():
                self.discard()
            return False
        if not self.due() or self.busy:
            return False
        self.save_now()
        return True

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def save_now(self) -> None:
        """Copy the document now (quick) and write it, on a thread unless `background` is off."""
        self.wait()
        copy = snapshot(self.document)
        self._saved_revision = self.document.revision
        self._dirty_since = None
        note = {
            "original_path": str(self.document.path) if self.document.path else None,
            "title": self.document.title,
            "saved_at": time.time(),
            "pid": os.getpid(),
            "process_started": _process_started(os.getpid()),
        }
        if self._background:
            self._thread = threading.Thread(target=self._write, args=(copy, note), name="autosave", daemon=True)
            self._thread.start()
        else:
            self._write(copy, note)

    def _write(self, copy: Document, note: dict) -> None:
        try:
            save_ora(copy, self.project, compress_level=1)  # speed over size: it is a safety net
            write_text_atomic(self.note, json.dumps(note, indent=2))
            self.last_error = None
        except OSError as error:  # a full disk must not take the app down; the UI can show last_error
            self.last_error = f"autosave to {self.project} failed: {error.strerror or error}"
            log.warning(self.last_error)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def adopt(self, leftover: RecoveryFile) -> None:
        """Continue in a restored leftover's files, so they are never unprotected before the next save."""
        self.wait()
        self.project, self.note = leftover.project, leftover.note
        self.save_now()

    def discard(self) -> None:
        """Forget the recovery file: after a clean save, or when the document is closed."""
        self.wait()
        for path in (self.note, self.project):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def find_leftovers(folder: Path) -> list[RecoveryFile]:
    """Recovery files whose app is no longer running, newest first (offer them at start-up)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    _remove_stale_temps(folder)
    found = []
    for project in folder.glob("autosave-*.ora"):
        note = project.with_suffix(".json")
        try:
            data = json_text.loads(note.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            data = {}  # no usable note: the project itself is still worth offering
        pid, started = data.get("pid"), data.get("process_started")
        if isinstance(pid, int) and started is not None and _process_started(pid) == started:
            continue  # its app is still running (another window): not ours to take
        saved_at = data.get("saved_at")
        if not isinstance(saved_at, (int, float)):
            saved_at = project.stat().st_mtime
        original = data.get("original_path") if isinstance(data.get("original_path"), str) else None
        title = data.get("title") if isinstance(data.get("title"), str) else (Path(original).name if original else "Untitled")
        found.append(RecoveryFile(project, note, original, float(saved_at), title))
    return sorted(found, key=lambda f: f.saved_at, reverse=True)


def restore(leftover: RecoveryFile) -> Document:
    """Open a leftover: it keeps its original path and counts as unsaved, so the user saves it."""
    try:
        document = load_ora(leftover.project)
    except ProjectError as error:
        raise ProjectError(f"the recovery file cannot be restored: {error}") from None
    document.path = Path(leftover.original_path) if leftover.original_path else None
    document.modified = True
    document.history.clear()
    return document


def discard_leftover(leftover: RecoveryFile) -> None:
    """The user declined to restore it."""
    for path in (leftover.note, leftover.project):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _remove_stale_temps(folder: Path) -> None:
    """Half-written temp files from a save that was killed; old enough that no save is still writing."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in folder.glob(".autosave-*.tmp"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
        except OSError:
            pass
