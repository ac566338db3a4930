"""What one generation adds to the loaded model: LoRAs at their weights, and a custom VAE or TAESD.

They are named in GenerationParams (panel choices, `<lora:name:0.8>` tags in the prompt, params.vae) and
resolved against the files the user has (discovered ModelEntry values that the job carries). They are put
in for the pipeline call and taken out afterwards, so the next image without them comes from the model
exactly as it was loaded.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from desktop.core.checkpoint_files import CheckpointError
from desktop.core.models import TAESD, VAE, ModelEntry
from desktop.core.params import GenerationParams
from desktop.engine.lora import LoraSpec, loras_applied, prepare_loras


@dataclass(frozen=True)
class Addons:
    """The prompt the pipeline reads, the LoRAs and VAE to apply, and the params that record what was used."""

    prompt: str
    loras: tuple[LoraSpec, ...]
    vae: ModelEntry | None
    recorded: GenerationParams

    @property
    def empty(self) -> bool:
        return not self.loras and self.vae is None


def find_vae(name: str, entries: Sequence[ModelEntry]) -> ModelEntry:
    """A VAE or TAESD by name (any case) or by path; CheckpointError naming the known ones otherwise."""
    known = [e for e in entries if e.kind in (VAE, TAESD)]
    for match in (lambda e: e.name == name or e.path == name, lambda e: e.name.lower() == name.lower()):
        found = [e for e in known if match(e)]
        if found:
            if found[0].problem:
                raise CheckpointError(f"the VAE {name!r} cannot be used: {found[0].problem}")
            return found[0]
    names = ", ".join(sorted(e.name for e in known)) or "none (put VAE files in models/vae, TAESD folders in models/taesd)"
    raise CheckpointError(f"no VAE or TAESD named {name!r}; known: {names}")


def resolve_addons(params: GenerationParams, entries: Sequence[ModelEntry]) -> Addons:
    """Raises LoraError / CheckpointError (both ValueError) with a message for the user."""
    prompt, specs = prepare_loras(params.prompt, params.loras, list(entries))
    vae = find_vae(params.vae, entries) if params.vae else None
    recorded = params
    if specs or prompt != params.prompt:
        # the image records what ran: the prompt without its tags, and each LoRA once with the weight used
        # (the A1111 writer puts them back as <lora:name:weight>; a name in panel and prompt is not doubled)
        recorded = params.replace(prompt=prompt, loras=tuple((spec.name, spec.weight) for spec in specs))
    return Addons(prompt, tuple(specs), vae, recorded)


@contextlib.contextmanager
def addons_applied(pipe, addons: Addons, load_vae: Callable[[ModelEntry], object]) -> Iterator[None]:
    """`with addons_applied(pipe, addons, loader): pipe(...)`: the VAE swapped in and the LoRAs applied,
    both undone afterwards even when the call fails or is cancelled."""
    previous = None
    if addons.vae is not None:
        vae = load_vae(addons.vae)
        previous = pipe.vae
        # the execution device, not the old VAE's: with CPU offload the old one waits on the CPU
        pipe.vae = vae.to(device=pipe._execution_device, dtype=previous.dtype)
    try:
        with loras_applied(pipe, list(addons.loras)):
            yield
    finally:
        if previous is not None:
            pipe.vae = previous
