"""A tiny observer list, so the Qt-free core can tell the UI what changed."""

from __future__ import annotations

from typing import Any, Callable


class Signal:
    """Calls every connected function, in connection order, on the thread that emits."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        try:
            self._slots.remove(slot)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        # A copy: a slot may disconnect itself while we iterate.
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
