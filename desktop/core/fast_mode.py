"""Fast mode: the few-step recipe for the loaded model, the LoRAs and TAESD the user has, and the device.

One table (RECIPES) says how each kind of few-step model runs: distilled checkpoints (SD-Turbo,
SDXL-Turbo, SDXS, SDXL-Lightning) carry the recipe in their weights; LCM-LoRA and Hyper-SD LoRAs turn
an ordinary SD 1.5 / SDXL checkpoint into one. `choose` picks the first row that fits and returns
the parameters that will run, and one sentence saying what was chosen. The chosen parameters are
ordinary GenerationParams (steps, guidance, scheduler, the LoRA, TAESD as the VAE) plus the recipe id,
so an image records exactly what ran and reproduces without Fast mode.

On a CPU, where a guided SD 1.5 step at 512 px takes ~18 s and the full VAE ~24 s (facts.md), Fast
mode also decodes with TAESD and reuses the deep UNet features every other step (DeepCache-style,
desktop/engine/feature_cache.py) when a recipe has four or more steps. On a GPU the full VAE and
every UNet pass are cheap enough to keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from desktop.core.models import LORA, SD1, SD2, SDXL, UNKNOWN, ModelEntry, pick_taesd
from desktop.core.params import GenerationParams

CARRIED = "model"  # the checkpoint itself is distilled
BY_LORA = "lora"  # a LoRA distils an ordinary checkpoint


@dataclass(frozen=True)
class Recipe:
    """How one kind of few-step model runs: sampler, steps, guidance, and what it needs."""

    id: str
    title: str
    source: str  # CARRIED or BY_LORA
    words: tuple[str, ...]  # every word must be in the model's (CARRIED) or the LoRA's (BY_LORA) name
    scheduler: str  # a name from params.SCHEDULERS
    steps: int  # on a CPU; a step count in the file's name ("4step") wins
    gpu_steps: int
    guidance: float  # <= 1 turns classifier-free guidance off: one UNet pass per step, not two
    trailing: bool = False  # timestep_spacing="trailing": the last step starts from pure noise (t=999)
    eta: float | None = None  # TCD's gamma (stochasticity per step)
    lora_weight: float = 1.0
    families: tuple[str, ...] = (SD1, SD2, SDXL)
    exclude: tuple[str, ...] = ()  # words that rule the row out (a CFG LoRA is not an N-step LoRA)


# In order of preference; every row is chosen in tests/core/test_fast_mode_choice.py (parametrised from this table).
RECIPES: tuple[Recipe, ...] = (
    # stabilityai/sd-turbo, sdxl-turbo model cards: 1-4 steps, guidance 0, trailing timesteps
    Recipe("turbo", "Turbo", CARRIED, ("turbo",), "Euler a", 1, 4, 0.0, trailing=True),
    # IDKiro/sdxs-512-0.9: one step from t=999, guidance 0
    Recipe("sdxs", "SDXS", CARRIED, ("sdxs",), "Euler", 1, 1, 0.0, trailing=True),
    # ByteDance/SDXL-Lightning: Euler, trailing, guidance 0, the step count it was distilled for
    Recipe("lightning", "SDXL-Lightning", CARRIED, ("lightning",), "Euler", 4, 4, 0.0, trailing=True),
    # ByteDance/Hyper-SD N-step LoRAs: DDIM with trailing timesteps, guidance 0
    Recipe("hyper-sd", "Hyper-SD", BY_LORA, ("hyper", "step"), "DDIM", 2, 4, 0.0, trailing=True,
           exclude=("cfg", "1step", "unet")),
    # the 1-step unified LoRA: TCD, eta 1.0 at one step
    Recipe("hyper-sd-1step", "Hyper-SD 1-step", BY_LORA, ("hyper", "1step"), "TCD", 1, 1, 0.0, eta=1.0,
           exclude=("unet",)),
    # latent-consistency/lcm-lora-sdv1-5 and lcm-lora-sdxl: LCM scheduler, 4-8 steps, guidance 1-2
    Recipe("lcm-lora", "LCM-LoRA", BY_LORA, ("lcm",), "LCM", 4, 6, 1.0),
    # the CFG-preserving Hyper-SD LoRAs: negative prompts work, guidance 5-8, twice the passes per step
    Recipe("hyper-sd-cfg", "Hyper-SD CFG", BY_LORA, ("hyper", "cfg"), "DDIM", 8, 8, 5.0, trailing=True),
)
BY_ID = {recipe.id: recipe for recipe in RECIPES}
CACHE_FROM_STEPS = 4  # DeepCache every other step pays only when there are steps to share
CPU_CACHE_INTERVAL = 2


@dataclass(frozen=True)
class FastModeChosen:
    """Lane -> UI message: what Fast mode chose for a generation job (the panel's status line shows it)."""

    job_id: int
    text: str


@dataclass(frozen=True)
class FastChoice:
    """What Fast mode will run for one generation, and the sentence that says so."""

    params: GenerationParams  # what runs and is recorded
    recipe: Recipe | None
    lora: ModelEntry | None
    taesd: ModelEntry | None
    sentence: str


def _words(name: str) -> str:
    """A name folded for matching: lower case, separators removed ("Hyper-SD15-2steps" -> "hypersd152steps")."""
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def model_name(path: str) -> str:
    """What a model is called: a hub cache snapshot by its repo, a folder or file by its name."""
    parts = Path(path).parts
    for part in reversed(parts):
        if part.startswith("models--"):
            return part[len("models--"):].replace("--", "/")
    return Path(path).stem if Path(path).suffix == ".safetensors" else Path(path).name


def recipe_matches(recipe: Recipe, name: str) -> bool:
    """Whether a model's or LoRA's name is one the recipe is for."""
    folded = _words(name)
    return all(w in folded for w in recipe.words) and not any(w in folded for w in recipe.exclude)


def named_steps(name: str) -> int | None:
    """The step count a distilled file says it was made for ("Hyper-SD15-4steps-lora" -> 4)."""
    found = re.search(r"(\d+)[-_ ]?steps?", name.lower())
    return int(found.group(1)) if found and 0 < int(found.group(1)) <= 50 else None


def _lora_family(entry: ModelEntry) -> str:
    if entry.family in (SD1, SD2, SDXL):
        return entry.family
    folded = _words(entry.name)
    if "xl" in folded:
        return SDXL
    if "sd15" in folded or "sdv15" in folded or "sd1" in folded:
        return SD1
    return UNKNOWN


def _fitting_loras(recipe: Recipe, family: str, entries: Sequence[ModelEntry]) -> list[ModelEntry]:
    fits = []
    for entry in entries:
        if entry.kind != LORA or not entry.usable or not recipe_matches(recipe, entry.name):
            continue
        lora_family = _lora_family(entry)
        if lora_family == family or (lora_family == UNKNOWN and family != UNKNOWN):
            fits.append(entry)
    # the fewest steps first: on a CPU every step is seconds
    return sorted(fits, key=lambda e: (named_steps(e.name) or recipe.steps, e.name))


def _find(model: str, family: str, entries: Sequence[ModelEntry]) -> tuple[Recipe | None, ModelEntry | None]:
    for recipe in RECIPES:
        if family not in recipe.families and family != UNKNOWN:
            continue
        if recipe.source == CARRIED:
            if recipe_matches(recipe, model):
                return recipe, None
        else:
            loras = _fitting_loras(recipe, family, entries)
            if loras:
                return recipe, loras[0]
    return None, None


def choose(params: GenerationParams, model_path: str, family: str, entries: Sequence[ModelEntry],
           device: str = "cpu") -> FastChoice:
    """The parameters Fast mode runs for this model, these add-on files and this device."""
    model = model_name(model_path)
    recipe, lora = _find(model, family, entries)
    on_cpu = device == "cpu"
    changes: dict = {}
    said: list[str] = []
    if recipe is not None:
        steps = named_steps(lora.name if lora else model) or (recipe.steps if on_cpu else recipe.gpu_steps)
        changes.update(steps=steps, guidance=recipe.guidance, scheduler=recipe.scheduler, fast_recipe=recipe.id)
        cfg = "guidance off" if recipe.guidance <= 1.0 else f"CFG {recipe.guidance:g}"
        said.append(f"{recipe.title} ({lora.name if lora else model}): {recipe.scheduler}, {steps} "
                    f"step{'s' * (steps != 1)}, {cfg}")
        if lora is not None and all(name.lower() != lora.name.lower() for name, _ in params.loras):
            changes["loras"] = params.loras + ((lora.name, recipe.lora_weight),)
        if on_cpu and steps >= CACHE_FROM_STEPS:
            changes["cache_interval"] = CPU_CACHE_INTERVAL
            said.append(f"deep features reused every {CPU_CACHE_INTERVAL}nd step")
    else:
        changes["fast_recipe"] = "none"
        hint = "SDXL" if family == SDXL else "SD 1.5"
        said.append(f"no few-step recipe for {model} ({family}): add an LCM or Hyper-SD LoRA for {hint} "
                    f"(File > Models… > Download), or use a Turbo model; {params.steps} steps as set")
    taesd = None
    if on_cpu and not params.vae:
        taesd = pick_taesd(entries, family)
        if taesd is not None:
            changes["vae"] = taesd.name
            said.append(f"TAESD decode ({taesd.name})")
        else:
            said.append("full VAE decode (no TAESD installed)")
    # recorded with the switch off: every choice is now explicit, so the image reproduces as it ran
    # even after the user's LoRAs change
    chosen = params.replace(fast_mode=False, **changes)
    return FastChoice(chosen, recipe, lora, taesd, "Fast mode: " + "; ".join(said))


def a1111_fields(params: GenerationParams) -> list[tuple[str, str]]:
    """The A1111-style `Key: value` pairs that record Fast mode (its recipe, the feature cache)."""
    pairs = []
    if params.fast_recipe:
        recipe = BY_ID.get(params.fast_recipe)
        pairs.append(("Fast mode", recipe.title if recipe else "no few-step recipe"))
    if params.cache_interval > 1:
        pairs.append(("Feature cache", f"every {params.cache_interval} steps"))
    return pairs
