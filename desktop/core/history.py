"""Undo and redo: commands that know how to take themselves back, and a memory-bounded history."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from desktop.core.events import Signal

if TYPE_CHECKING:
    from desktop.core.document import Document

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_STEPS = 500


class Command(ABC):
    """One undoable edit of a document; `label` is what the history panel and Edit menu show."""

    label = "Edit"
    changes_content = True  # False for a step that leaves the pixels alone (a selection): saving is not asked for

    @abstractmethod
    def do(self, document: "Document") -> None:
        """Apply the edit (also used for redo). Check everything first: a refusal must change nothing."""

    @abstractmethod
    def undo(self, document: "Document") -> None:
        """Put the document back exactly as it was before `do`."""

    def merge(self, other: "Command") -> bool:
        """Absorb `other`, which was just done after this one, if both are one gesture (a stroke)."""
        return False

    @property
    def nbytes(self) -> int:
        """Memory this command keeps for undo, so the history can stay within its budget."""
        return 0


class History:
    """The undo and redo stacks of one document, bounded in steps and in bytes of kept pixels."""

    def __init__(self, document: "Document", max_bytes: int = DEFAULT_MAX_BYTES, max_steps: int = DEFAULT_MAX_STEPS):
        self._document = document
        self._done: list[Command] = []
        self._undone: list[Command] = []  # most recently undone last
        self._clean: int | None = 0  # len(_done) at the last save; None once that state is gone
        self.max_bytes = max_bytes
        self.max_steps = max_steps
        self.changed = Signal()  # emitted with no arguments whenever the stacks change

    # ------------------------------------------------------------ doing
    def do(self, command: Command) -> Command:
        """Apply `command` and record it; if it refuses (raises), nothing is recorded."""
        command.do(self._document)
        self.push(command)
        return command

    def push(self, command: Command) -> None:
        """Record a command whose effect is already on the document (a stroke painted live)."""
        if self._undone:
            self._undone.clear()
            if self._clean is not None and self._clean > len(self._done):
                self._clean = None  # the saved state was in the redo stack: it cannot come back
        top = self._done[-1] if self._done else None
        # Never merge into the saved state: the document would change while the index stays clean.
        if top is None or self._clean == len(self._done) or not top.merge(command):
            self._done.append(command)
        self._trim()
        self._settle()

    def undo(self) -> str | None:
        """Take back the last edit; returns its label, or None when there is nothing to undo."""
        if not self._done:
            return None
        command = self._done.pop()
        command.undo(self._document)
        self._undone.append(command)
        self._settle()
        return command.label

    def redo(self) -> str | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        command.do(self._document)
        self._done.append(command)
        self._settle()
        return command.label

    def go_to(self, index: int) -> None:
        """Undo or redo until `index` edits are done (a click in the history panel)."""
        index = max(0, min(index, len(self._done) + len(self._undone)))
        while len(self._done) > index:
            self.undo()
        while len(self._done) < index:
            self.redo()

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean = 0 if not self._document.modified else None
        self.changed.emit()

    # ------------------------------------------------------------ saved state
    def mark_clean(self) -> None:
        """The document was saved as it is now."""
        self._clean = len(self._done)
        self._settle()

    @property
    def is_clean(self) -> bool:
        """The document matches its saved state, apart from steps that change no content (selections)."""
        if self._clean is None:
            return False
        done = len(self._done)
        between = self._done[self._clean:] if done >= self._clean else self._undone[done - self._clean:]
        return all(not command.changes_content for command in between)

    # ------------------------------------------------------------ reading
    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_label(self) -> str | None:
        return self._done[-1].label if self._done else None

    @property
    def redo_label(self) -> str | None:
        return self._undone[-1].label if self._undone else None

    @property
    def labels(self) -> list[str]:
        """Every step, oldest first: the first `index` are done, the rest can be redone."""
        return [c.label for c in self._done] + [c.label for c in reversed(self._undone)]

    @property
    def index(self) -> int:
        return len(self._done)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._done) + sum(c.nbytes for c in self._undone)

    # ------------------------------------------------------------ inside
    def _trim(self) -> None:
        """Forget the oldest steps past the budget; the newest step is always kept."""
        total = self.nbytes
        while len(self._done) > 1 and (total > self.max_bytes or len(self._done) + len(self._undone) > self.max_steps):
            total -= self._done.pop(0).nbytes
            if self._clean is not None:
                self._clean = self._clean - 1 if self._clean > 0 else None

    def _settle(self) -> None:
        self._document.modified = not self.is_clean
        self.changed.emit()
