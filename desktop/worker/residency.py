"""Which models the lane keeps loaded, and which to unload (least recently used first) for a new one.

Plain Python: the chat and image handlers report what they load and use; before a load, `make_room`
says what to unload so the new model fits in the memory that is free now. Both stay resident when
they fit, as LM Studio and ComfyUI keep models between jobs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

GB = 1024 ** 3
# Keep a tenth of free memory for everything else (the GUI, the OS cache, activations we did not count)
MARGIN = 0.9


@dataclass(frozen=True)
class Resident:
    """One loaded model: its slot ("image" or "chat"), folder, estimated bytes and when it was last used."""

    slot: str
    path: str
    bytes: int
    last_used: int

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class RoomPlan:
    """What to unload before a load, the memory free once that is done, and whether the new model fits."""

    unload: tuple[Resident, ...]
    needed: int
    free: int
    fits: bool

    def describe(self, path: str) -> str:
        """A sentence for the status bar; empty when nothing had to change."""
        name, parts = Path(path).name, []
        if self.unload:
            names = ", ".join(r.name for r in self.unload)
            parts.append(f"Unloaded {names} to make room for {name} (needs {gb(self.needed)}, {gb(self.free)} free)")
        if not self.fits:
            parts.append(f"{name} needs about {gb(self.needed)} but only {gb(self.free)} is free: it may be slow "
                         "(swapping) or fail; close other programs or pick a smaller model")
        return "; ".join(parts)


def gb(count: int) -> str:
    return f"{count / GB:.1f} GB" if count >= GB / 10 else f"{count / 1024 ** 2:.0f} MB"


class Residency:
    """The lane's loaded models with their memory; decides LRU unloads. Used on the lane thread only."""

    def __init__(self, margin: float = MARGIN) -> None:
        self.margin = margin
        self._residents: dict[str, Resident] = {}
        self._clock = itertools.count(1)

    def residents(self) -> list[Resident]:
        """Least recently used first."""
        return sorted(self._residents.values(), key=lambda r: r.last_used)

    def get(self, slot: str) -> Resident | None:
        return self._residents.get(slot)

    def loaded(self, slot: str, path: str, size: int) -> None:
        self._residents[slot] = Resident(slot, str(path), int(size), next(self._clock))

    def touch(self, slot: str) -> None:
        resident = self._residents.get(slot)
        if resident is not None:
            self._residents[slot] = Resident(slot, resident.path, resident.bytes, next(self._clock))

    def unloaded(self, slot: str) -> None:
        self._residents.pop(slot, None)

    def make_room(self, slot: str, path: str, needed: int, available: int) -> RoomPlan:
        """Plan a load of the model at `path` into `slot` with `available` bytes free now (loaded models excluded).

        The model already in the same slot is replaced, so its memory counts as free; models in other
        slots are unloaded, least recently used first, until the new one fits (all of them when it
        cannot fit at all: the model asked for gets the best chance, and the plan says it may not fit).
        """
        current = self._residents.get(slot)
        if current is not None and current.path == str(path):
            return RoomPlan((), 0, available, True)  # already loaded: nothing to do
        free = available + (current.bytes if current is not None else 0)
        unload: list[Resident] = []
        for resident in self.residents():
            if needed <= free * self.margin:
                break
            if resident.slot != slot:
                unload.append(resident)
                free += resident.bytes
        return RoomPlan(tuple(unload), needed, free, needed <= free * self.margin)
