"""Fast mode's recipe choice: from the model's name, the LoRAs and TAESDs the user has, and the device."""

from __future__ import annotations

import pytest

from desktop.core import fast_mode
from desktop.core.fast_mode import RECIPES, choose, named_steps
from desktop.core.metadata.a1111 import format_parameters
from desktop.core.models import LORA, SD1, SDXL, TAESD, UNKNOWN, ModelEntry
from desktop.core.params import SCHEDULERS, GenerationParams

# one real-world name per recipe row: (model path, family, LoRA file names the user has)
EXAMPLES = {
    "turbo": ("/hub/models--stabilityai--sd-turbo/snapshots/abc", "SD 2.x", ()),
    "sdxs": ("/models/sdxs-512-0.9", "SD 2.x", ()),
    "lightning": ("/models/checkpoints/sdxl_lightning_4step.safetensors", SDXL, ()),
    "hyper-sd": ("/models/dreamshaper-8", SD1, ("Hyper-SD15-2steps-lora", "Hyper-SD15-8steps-lora")),
    "hyper-sd-1step": ("/models/dreamshaper-8", SD1, ("Hyper-SD15-1step-lora",)),
    "lcm-lora": ("/models/sd-1.5", SD1, ("lcm-lora-sdv1-5",)),
    "hyper-sd-cfg": ("/models/juggernaut-xl", SDXL, ("Hyper-SDXL-8steps-CFG-lora",)),
}


def lora(name: str, family: str = UNKNOWN) -> ModelEntry:
    return ModelEntry(name=name, path=f"/models/loras/{name}.safetensors", kind=LORA, family=family)


TAESDS = [ModelEntry("taesd", "/models/taesd", TAESD), ModelEntry("taesdxl", "/models/taesdxl", TAESD)]


def test_every_recipe_row_has_an_example():
    assert set(EXAMPLES) == {recipe.id for recipe in RECIPES}
    assert all(recipe.scheduler in SCHEDULERS for recipe in RECIPES)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.id)
def test_each_recipe_is_chosen_with_its_sampler_steps_and_guidance(recipe):
    model, family, lora_names = EXAMPLES[recipe.id]
    entries = [lora(n) for n in lora_names] + TAESDS
    params = GenerationParams(prompt="a fox", steps=30, guidance=7.5, scheduler="DPM++ 2M", fast_mode=True)
    choice = choose(params, model, family, entries, "cpu")
    ran = choice.params
    assert choice.recipe is recipe and ran.fast_recipe == recipe.id
    assert ran.scheduler == recipe.scheduler and ran.guidance == recipe.guidance
    expected_steps = named_steps(lora_names[0] if lora_names else model) or recipe.steps
    assert ran.steps == expected_steps
    assert ran.cache_interval == (2 if expected_steps >= fast_mode.CACHE_FROM_STEPS else 1)
    if lora_names:  # the fewest-step file of the row, applied at the recipe's weight
        assert ran.loras == ((lora_names[0], recipe.lora_weight),)
    else:
        assert ran.loras == ()
    assert ran.vae == ("taesdxl" if family == SDXL else "taesd")  # the CPU decodes drafts with TAESD
    assert not ran.fast_mode  # recorded as it ran: reproducing it needs no recipe choice again
    assert recipe.title in choice.sentence and f"{ran.steps} step" in choice.sentence


def test_on_a_gpu_the_full_vae_and_every_unet_pass_stay():
    params = GenerationParams(fast_mode=True)
    choice = choose(params, "/hub/models--stabilityai--sd-turbo/snapshots/abc", "SD 2.x", TAESDS, "cuda")
    assert choice.params.steps == 4 and choice.params.vae == "" and choice.params.cache_interval == 1
    assert "TAESD" not in choice.sentence


def test_a_lora_for_another_family_is_not_taken():
    entries = [lora("lcm-lora-sdxl", SDXL)]
    choice = choose(GenerationParams(steps=25, fast_mode=True), "/models/sd-1.5", SD1, entries, "cpu")
    assert choice.recipe is None and choice.params.steps == 25 and choice.params.fast_recipe == "none"
    assert "add an LCM or Hyper-SD LoRA for SD 1.5" in choice.sentence
    assert "full VAE decode (no TAESD installed)" in choice.sentence


def test_a_vae_the_user_picked_wins_over_taesd():
    params = GenerationParams(vae="my-vae", fast_mode=True)
    choice = choose(params, "/models/sd-1.5", SD1, [lora("lcm-lora-sdv1-5")] + TAESDS, "cpu")
    assert choice.params.vae == "my-vae" and choice.taesd is None


def test_a_lora_already_chosen_in_the_panel_is_not_added_twice():
    params = GenerationParams(loras=(("lcm-lora-sdv1-5", 0.8),), fast_mode=True)
    choice = choose(params, "/models/sd-1.5", SD1, [lora("lcm-lora-sdv1-5")], "cpu")
    assert choice.params.loras == (("lcm-lora-sdv1-5", 0.8),)


def test_the_recipe_is_written_in_the_a1111_parameters():
    params = GenerationParams(fast_mode=True)
    ran = choose(params, "/models/sd-1.5", SD1, [lora("lcm-lora-sdv1-5")] + TAESDS, "cpu").params
    text = format_parameters(ran, model_name="sd-1.5")
    assert "Steps: 4, Sampler: LCM, CFG scale: 1," in text
    assert "<lora:lcm-lora-sdv1-5:1>" in text and "VAE: taesd" in text
    assert "Fast mode: LCM-LoRA" in text and "Feature cache: every 2 steps" in text
    assert GenerationParams.from_dict(ran.to_dict()) == ran  # the Atelier JSON record round-trips


def test_cache_interval_is_checked():
    with pytest.raises(ValueError, match="cache interval"):
        GenerationParams(cache_interval=0)


def test_a_lora_downloaded_into_the_hub_cache_is_listed_under_its_repo_name(tmp_path, tiny_sd15):
    from desktop.core.models import discover_models
    from tiny_checkpoints import write_lora

    snapshot = tmp_path / "hub" / "models--latent-consistency--lcm-lora-sdv1-5" / "snapshots" / "c0ffee"
    write_lora(tiny_sd15, snapshot / "pytorch_lora_weights.safetensors")
    entries = discover_models([tmp_path / "models"], tmp_path / "hub")
    assert [(e.name, e.kind) for e in entries] == [("lcm-lora-sdv1-5", LORA)]
