"""The prompt model without Qt: fields follow GenerationParams, changes are announced once, params validated."""

import dataclasses

import pytest

from desktop.core.models import ModelEntry
from desktop.core.params import GenerationParams, ParamError
from desktop.core.prompt_model import PARAM_FIELDS, PromptModel
from desktop.core.settings import Settings

ALPHA = ModelEntry("alpha", "/m/alpha", "checkpoint", "SD 1.x")
BETA = ModelEntry("beta", "/m/beta", "checkpoint", "SDXL")
BROKEN = ModelEntry("half", "/m/half", "checkpoint", problem="missing unet")


def recording(model):
    changes = []
    model.changed.connect(lambda name, value: changes.append((name, value)))
    return changes


def test_every_generation_parameter_is_a_field_with_its_default():
    model = PromptModel()
    assert set(PARAM_FIELDS) == {f.name for f in dataclasses.fields(GenerationParams)}
    assert set(PARAM_FIELDS) <= set(model.fields)
    assert {"selected_model", "seed_locked", "models", "addons"} <= set(model.fields)
    assert (model.steps, model.scheduler, model.loras) == (20, "Euler a", ())


def test_a_change_is_announced_once_and_a_same_value_not_at_all():
    model = PromptModel()
    changes = recording(model)
    model.steps = 8
    model.set("steps", 8)
    model.update(width=768, height=768)
    assert changes == [("steps", 8), ("width", 768), ("height", 768)]
    with pytest.raises(AttributeError):
        model.stepz = 3  # a typo fails loudly instead of adding a field nobody shows


def test_models_selection_follows_the_list_and_names():
    model = PromptModel()
    model.set_models([BROKEN, ALPHA, BETA])
    assert model.selected_model == ALPHA and model.model == "alpha"  # the first usable one
    model.set_models([BROKEN, ALPHA, BETA], select="beta")
    assert model.selected_model == BETA
    model.set_models([ALPHA])  # the selected one went away
    assert model.selected_model == ALPHA
    assert not model.select_model("half") and model.selected_model == ALPHA


def test_to_params_validates_and_says_what_to_change():
    model = PromptModel()
    with pytest.raises(ParamError, match="choose a model first"):
        model.to_params()
    model.set_models([ALPHA])
    model.update(prompt="  a fox  ", width=500)
    with pytest.raises(ParamError, match="nearest valid: 504"):
        model.to_params()
    model.width = 504
    assert model.to_params().prompt == "a fox" and model.to_params(seed=9).seed == 9
    model.set_error("seed", "seed must be a whole number, got 'x'")
    with pytest.raises(ParamError, match="whole number"):
        model.to_params()
    assert model.to_params(seed=3).seed == 3  # a value given instead of the bad one
    model.seed = 4
    assert model.errors == {} and model.to_params().seed == 4


def test_set_params_restores_an_image_and_says_when_its_model_is_missing():
    model = PromptModel()
    model.set_models([ALPHA, BETA])
    params = GenerationParams(prompt="heron", model="beta", width=640, height=384, seed=5, loras=(("ink", 0.5),))
    assert model.set_params(params) and model.to_params() == params
    assert not model.set_params(params.replace(model="gone")) and model.selected_model == BETA


def test_an_emptied_prompt_forgets_the_rewrite_it_came_from():
    model = PromptModel()
    model.update(prompt="a fox, cinematic", original_prompt="a fox")
    model.prompt = ""
    assert model.original_prompt == ""


def test_settings_round_trip_through_the_model():
    settings = Settings(prompt="a lighthouse", negative_prompt="fog", width=640, steps=9, seed=17, seed_locked=True)
    model = PromptModel()
    model.load_from(settings)
    assert (model.prompt, model.negative_prompt, model.width, model.steps, model.seed, model.seed_locked) == (
        "a lighthouse", "fog", 640, 9, 17, True)
    model.update(prompt="a harbour", steps=4)
    fresh = Settings()
    model.store_into(fresh)
    assert (fresh.prompt, fresh.steps, fresh.seed_locked) == ("a harbour", 4, True)
