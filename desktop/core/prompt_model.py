"""The prompt panel's model: every parameter of the next generation in one observable object.

Widgets bind to it (desktop/ui/binding.py: one line per field, napari's `QtDims(dims)`, krita-ai-diffusion's
`Model` + `bind`); every other piece of code — settings restore and save, chat tool calls, gallery Reuse
settings, Enhance, /imagine, the CLI and tests — reads and changes the model, never a panel's child widget.

    model = PromptModel()
    model.changed.connect(lambda name, value: ...)   # once per real change
    model.prompt = "a heron at dawn"                 # or model.set("prompt", ...), model.update(...)
    params = model.to_params()                       # validated GenerationParams, or ParamError saying why

Its fields are every GenerationParams field (so a field added there is here too, with no change to this
file) plus what the panel holds beside them: the selected model (a ModelEntry), the seed lock, and the
image models and add-on files (LoRA, VAE, TAESD) there are to choose from, and the steering models the
control, reference and region layers may name.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from desktop.core.events import Signal
from desktop.core.models import ModelEntry
from desktop.core.params import GenerationParams, ParamError

PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(GenerationParams))
PANEL_FIELDS = {"selected_model": None, "seed_locked": False, "models": (), "addons": (),
                "steering_models": ()}  # ControlNets, IP-Adapters, image encoders, depth/pose models (steering)
# What the app keeps in Settings between runs (the names are the same in both)
SETTINGS_FIELDS = ("prompt", "negative_prompt", "width", "height", "steps", "guidance", "scheduler", "seed",
                   "seed_locked", "fast_mode")
NO_MODEL = "choose a model first (see the note under Model)"


class PromptModel:
    """Observable generation parameters: `changed(name, value)` after each change; `to_params()` validates."""

    def __init__(self, params: GenerationParams | None = None) -> None:
        params = params or GenerationParams()
        values = {name: getattr(params, name) for name in PARAM_FIELDS}
        values.update(PANEL_FIELDS)
        values["model"] = ""  # follows selected_model
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_errors", {})
        object.__setattr__(self, "changed", Signal())  # (name, value)
        object.__setattr__(self, "error_changed", Signal())  # (name, message; "" when it went away)

    # ------------------------------------------------------------------ fields
    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._values)

    def __getattr__(self, name: str) -> Any:  # only called when ordinary lookup fails: the fields
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"PromptModel has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:  # a typo must fail loudly, not add a field nobody binds
            raise AttributeError(f"PromptModel has no field {name!r}")
        self.set(name, value)

    def get(self, name: str) -> Any:
        return self._values[name]

    def set(self, name: str, value: Any) -> bool:
        """Change one field; True when it changed (then `changed` was emitted)."""
        if name not in self._values:
            raise AttributeError(f"PromptModel has no field {name!r}")
        if name == "model":  # the name of a model: select it when it is installed here
            return self.select_model(value)
        if isinstance(value, list):
            value = tuple(value)
        self.clear_error(name)
        if self._values[name] == value and type(self._values[name]) is type(value):
            return False
        self._values[name] = value
        self.changed.emit(name, value)
        if name == "selected_model":
            self._store("model", value.name if value is not None else "")
        elif name == "prompt" and not str(value).strip():
            self.set("original_prompt", "")  # an emptied prompt starts over: no rewrite to record
        elif name == "models":
            self._keep_selection()
        return True

    def update(self, **values: Any) -> None:
        for name, value in values.items():
            self.set(name, value)

    def _store(self, name: str, value: Any) -> None:
        if self._values[name] != value:
            self._values[name] = value
            self.changed.emit(name, value)

    # ------------------------------------------------------------------ errors a widget could not turn into a value
    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def set_error(self, name: str, message: str) -> None:
        """A widget holds text that is no value (a seed of "banana"): generation is refused with `message`."""
        if self._errors.get(name) != message:
            self._errors[name] = message
            self.error_changed.emit(name, message)

    def clear_error(self, name: str) -> None:
        if self._errors.pop(name, None) is not None:
            self.error_changed.emit(name, "")

    # ------------------------------------------------------------------ models to choose from
    def usable_models(self) -> tuple[ModelEntry, ...]:
        return tuple(e for e in self.models if e.usable)

    def find_model(self, name_or_path: str) -> ModelEntry | None:
        return next((e for e in self.usable_models() if name_or_path and name_or_path in (e.name, e.path)), None)

    def select_model(self, name_or_path: str) -> bool:
        """Select an installed model by name or path; False (nothing changes) when there is none such."""
        entry = self.find_model(name_or_path)
        return entry is not None and self.set("selected_model", entry)

    def set_models(self, entries: Iterable[ModelEntry], select: str = "") -> None:
        """The image models found; keeps the selected one unless `select` names another (or it went away)."""
        self.set("models", tuple(entries))
        if select:
            self.select_model(select)

    def _keep_selection(self) -> None:
        current = self.selected_model
        kept = self.find_model(current.path) if current is not None else None
        usable = self.usable_models()
        self.set("selected_model", kept or (usable[0] if usable else None))

    # ------------------------------------------------------------------ params
    def to_params(self, **overrides: Any) -> GenerationParams:
        """The parameters as validated GenerationParams; raises ParamError saying what to change."""
        bad = [message for name, message in self._errors.items() if name not in overrides]
        if bad:
            raise ParamError(bad[0])
        entry = self.selected_model
        if entry is None and "model" not in overrides:
            raise ParamError(NO_MODEL)
        values = {name: self._values[name] for name in PARAM_FIELDS}
        values.update(model=entry.name if entry is not None else "", prompt=values["prompt"].strip(),
                      negative_prompt=values["negative_prompt"].strip())
        values.update(overrides)
        return GenerationParams(**values)

    def set_params(self, params: GenerationParams) -> bool:
        """Restore every parameter of an image (Reuse settings); False when its model is not installed here."""
        # the mode first: it decides what the size means on a canvas (a view may re-impose the area's size)
        for name in sorted(PARAM_FIELDS, key=lambda field: field != "mode"):
            if name != "model":
                self.set(name, getattr(params, name))
        found = self.find_model(params.model) if params.model else None
        if found is not None:
            self.set("selected_model", found)
        return found is not None or not params.model

    # ------------------------------------------------------------------ settings
    def load_from(self, source: object, names: Iterable[str] = SETTINGS_FIELDS) -> None:
        """Take the fields `source` (Settings) has under the same names."""
        for name in names:
            if hasattr(source, name):
                self.set(name, getattr(source, name))

    def store_into(self, target: object, names: Iterable[str] = SETTINGS_FIELDS) -> None:
        for name in names:
            if hasattr(target, name) and name not in self._errors:
                setattr(target, name, self._values[name])
