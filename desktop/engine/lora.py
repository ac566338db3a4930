"""Apply LoRAs to a loaded pipeline for one generation, then remove them so the model is as before.

diffusers (with peft) reads both kohya (`lora_unet_...`, `lora_te_...`) and diffusers/PEFT
(`lora_A`/`lora_B`) files. The base weights are never fused or changed: LoRA layers are added beside
them and unloaded afterwards, so the next image without the LoRA is bit-identical to one made before.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from desktop.core.checkpoint_files import CONTEXT_FAMILY, CheckpointError, context_width, inspect_file
from desktop.core.models import LORA, SD1, SD2, SDXL, UNKNOWN

log = logging.getLogger(__name__)


class LoraError(ValueError):
    """A LoRA that cannot be applied to this model, and why."""


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA file to apply, at a strength."""

    name: str
    path: str
    weight: float = 1.0


def pipeline_family(pipe) -> str:
    if getattr(pipe, "text_encoder_2", None) is not None:
        return SDXL
    return {768: SD1, 1024: SD2}.get(pipe.unet.config.cross_attention_dim, UNKNOWN)


def check_lora(spec: LoraSpec, pipe) -> None:
    """Refuse a LoRA made for another model family, before any weight is touched."""
    from desktop.core.checkpoint_files import read_header

    try:
        info = inspect_file(spec.path)
    except CheckpointError as error:
        raise LoraError(f"LoRA {spec.name!r}: {error}") from error
    if info.kind != LORA:
        raise LoraError(f"{spec.name!r} is a {info.kind}, not a LoRA")
    model_family = pipeline_family(pipe)
    if info.family != UNKNOWN and model_family != UNKNOWN and info.family != model_family:
        raise LoraError(f"LoRA {spec.name!r} was made for {info.family} models; the loaded model is "
                        f"{model_family}. Pick a {model_family} LoRA or switch to a {info.family} model")
    # families unknown by name (small or unusual models): the cross-attention width must still agree
    width = context_width(read_header(spec.path).tensors, ("attn2_to_k.lora_down.weight", "attn2.to_k.lora_A.weight"), 1)
    expected = pipe.unet.config.cross_attention_dim
    if width and width != expected:
        made_for = CONTEXT_FAMILY.get(width, f"a model with {width}-wide text features")
        raise LoraError(f"LoRA {spec.name!r} was made for {made_for}; the loaded model's text features are "
                        f"{expected} wide ({model_family}), so it cannot apply")


def _adapted_layers(pipe, adapter: str) -> int:
    count = 0
    for part in ("unet", "text_encoder", "text_encoder_2"):
        module = getattr(pipe, part, None)
        if module is None:
            continue
        for layer in module.modules():
            lora_a = getattr(layer, "lora_A", None)
            if lora_a is not None and hasattr(lora_a, "keys") and adapter in lora_a.keys():
                count += 1
    return count


def _adapter_name(index: int, spec: LoraSpec) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in spec.name)[:40]
    return f"atelier_{index}_{safe}"


def apply_loras(pipe, specs: list[LoraSpec]) -> list[str]:
    """Load the LoRAs as named adapters at their weights; returns the adapter names for remove_loras."""
    from desktop.engine.single_file import quiet

    quiet()  # diffusers warns about text-encoder keys a UNet-only LoRA does not have
    names: list[str] = []
    try:
        for index, spec in enumerate(specs):
            check_lora(spec, pipe)
            name = _adapter_name(index, spec)
            nothing = LoraError(f"LoRA {spec.name!r} matches no layer of this model: it was made for another "
                                "architecture, or its file uses a layout Atelier does not read")
            try:
                pipe.load_lora_weights(str(Path(spec.path)), adapter_name=name)
            except (ValueError, KeyError, RuntimeError) as error:
                if "not found in the base model" in str(error):
                    raise nothing from error
                raise LoraError(f"LoRA {spec.name!r} could not be applied: {str(error)[:300]}") from error
            names.append(name)
            if _adapted_layers(pipe, name) == 0:
                raise nothing
        if names:
            pipe.set_adapters(names, adapter_weights=[spec.weight for spec in specs])
    except BaseException:
        remove_loras(pipe, names)
        raise
    return names


def remove_loras(pipe, names: list[str]) -> None:
    """Remove the adapters so the pipeline is exactly the base model again."""
    if not names:
        return
    try:
        pipe.delete_adapters(names)
    except (ValueError, KeyError) as error:  # a half-loaded adapter: unload everything instead
        log.warning("could not delete LoRA adapters %s (%s); unloading all", names, error)
    if not pipe.get_list_adapters() or not any(pipe.get_list_adapters().values()):
        pipe.unload_lora_weights()


@contextlib.contextmanager
def loras_applied(pipe, specs: list[LoraSpec]) -> Iterator[list[str]]:
    """`with loras_applied(pipe, specs): pipe(...)`: applied for this generation, removed afterwards."""
    names = apply_loras(pipe, specs)
    try:
        yield names
    finally:
        remove_loras(pipe, names)


def prepare_loras(prompt: str, chosen: tuple[tuple[str, float], ...], entries) -> tuple[str, list[LoraSpec]]:
    """The prompt without `<lora:...>` tags, and the LoRA files to apply (panel choices + prompt tags).

    entries: discovered ModelEntry list; a name that is not a known LoRA raises LoraError naming those known.
    """
    from desktop.core.lora_syntax import LoraRef, LoraSyntaxError, merge_choices, parse_loras

    try:
        cleaned, from_prompt = parse_loras(prompt)
    except LoraSyntaxError as error:
        raise LoraError(str(error)) from error
    refs = merge_choices(from_prompt, [LoraRef(name, weight) for name, weight in chosen])
    known = {e.name.lower(): e for e in entries if e.kind == LORA}
    specs = []
    for ref in refs:
        entry = known.get(ref.name.lower())
        if entry is None:
            names = ", ".join(sorted(e.name for e in known.values())) or "none (put .safetensors LoRAs in models/loras)"
            raise LoraError(f"no LoRA named {ref.name!r}; known LoRAs: {names}")
        if entry.problem:
            raise LoraError(f"LoRA {ref.name!r} cannot be used: {entry.problem}")
        specs.append(LoraSpec(entry.name, entry.path, ref.weight))
    return cleaned, specs


def metadata_text(specs: list[LoraSpec]) -> str:
    """The A1111-style record of the LoRAs used (`Lora hashes` is left out: no hashing on every image)."""
    return ", ".join(f"{spec.name}: {spec.weight:g}" for spec in specs)
