"""What the engine adds to one pipeline call for control layers, reference images, regions and prompt weights.

    plan = SteeringPlan.make(engine_state, params, mode, inputs)   # loads models, refuses bad ones, by name
    pipe = plan.pipe or the plain pipeline for the mode
    with addons_applied(...), plan.loaded(pipe) as call_extra, torch.inference_mode():
        call.update(plan.arguments(pipe, call))                  # prompt embeddings, control images
        pipe(**call)                                             # regions are live inside `plan.loaded`

A control that cannot change anything (switched off, weight 0, an empty step range) is left out, so the
image is exactly the one without it; likewise a plain prompt of at most 75 tokens is encoded by the pipeline
itself, as before.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from desktop.core.models import ModelEntry
from desktop.core.params import GenerationParams
from desktop.engine.control import control_arguments, control_pipeline, controlnet_entries, load_controlnet
from desktop.engine.control_images import DepthEstimators, control_picture, fit, pipeline_image
from desktop.engine.prompt_encoder import encode_prompts, needs_chunked_encoding
from desktop.engine.reference import ReferenceModels, references_applied
from desktop.engine.regions import RegionLayout, latent_masks, regions_applied


@dataclass(frozen=True)
class SteeringInputs:
    """The pixels of a job's steering, in the order of params.controls / references / regions.

    Control images are RGBA (the layer, at the canvas area's size); references any mode; region masks "L"
    (white = inside). `models` are the discovered models the names in the specs refer to.
    """

    controls: tuple = ()
    references: tuple = ()
    regions: tuple = ()
    models: tuple[ModelEntry, ...] = ()


class SteeringModels:
    """ControlNets, depth estimators and IP-Adapter parts kept between jobs while the image model is loaded."""

    def __init__(self, tune=lambda module: module) -> None:
        self.tune = tune  # the engine's CPU layout for new modules (channels_last), as for the UNet
        self.controlnets: dict[str, object] = {}
        self.control_pipes: dict[tuple, object] = {}
        self.depth = DepthEstimators()
        self.references = ReferenceModels()

    def clear(self) -> None:
        self.controlnets.clear()
        self.control_pipes.clear()
        self.depth.clear()
        self.references.clear()

    def controlnets_for(self, entries: list[ModelEntry], pipe, family: str, dtype) -> list:
        wanted = {entry.path for entry in entries}
        for path in list(self.controlnets):  # keep only what this job uses: each is ~1.4 GB (SD 1.5) in fp32
            if path not in wanted:
                del self.controlnets[path]
        for entry in entries:
            if entry.path not in self.controlnets:  # on the device the pipeline runs on (offload keeps it there)
                self.controlnets[entry.path] = self.tune(load_controlnet(entry, pipe, family, dtype)
                                                         .to(pipe._execution_device))
        return [self.controlnets[entry.path] for entry in entries]

    def pipe_for(self, base, mode: str, entries: list[ModelEntry], controlnets: list):
        # keyed by the loaded modules themselves: a ControlNet loaded again is another module, so another pipe
        key = (mode, tuple(entry.path for entry in entries), tuple(id(net) for net in controlnets))
        if key not in self.control_pipes:
            self.control_pipes = {key: control_pipeline(base, mode, controlnets)}
        return self.control_pipes[key]


def control_rgba(image: Image.Image, width: int, height: int) -> np.ndarray:
    return np.asarray(fit(image.convert("RGBA"), width, height))


@dataclass
class SteeringPlan:
    """The steering of one job, resolved against the loaded model: the pipe to use and what to add to its call."""

    params: GenerationParams
    mode: str
    inputs: SteeringInputs
    pipe: object | None = None  # a ControlNet pipeline, or None for the plain one
    control_images: list = field(default_factory=list)
    control_specs: list = field(default_factory=list)

    @classmethod
    def make(cls, models: SteeringModels, base, family: str, params: GenerationParams, mode: str,
             inputs: SteeringInputs | None, mask: Image.Image | None = None) -> "SteeringPlan":
        """Load and check everything before the first step: a wrong model is refused here, by name.

        Without `inputs` (a caller that has no steering pixels, e.g. a second pass of an upscale) the specs in
        params are only a record: nothing steers. With them, every spec needs its image.
        """
        if inputs is not None:
            _check_counts(params, inputs)
        inputs = inputs or SteeringInputs()
        plan = cls(params, mode, inputs)
        acting = [(spec, image) for spec, image in zip(params.controls, inputs.controls) if spec.acts]
        if acting:
            width, height = params.width, params.height
            mask_array = np.asarray(fit(mask.convert("L"), width, height)) if mask is not None else None
            for spec, image in acting:
                picture = control_picture(spec, control_rgba(image, width, height), mask_array, inputs.models,
                                          models.depth)
                plan.control_images.append(pipeline_image(picture))
                plan.control_specs.append(spec)
            entries = controlnet_entries(plan.control_specs, inputs.models)
            nets = models.controlnets_for(entries, base, family, base.unet.dtype)
            plan.pipe = models.pipe_for(base, mode, entries, nets)
        return plan

    @contextlib.contextmanager
    def loaded(self, pipe, models: SteeringModels, family: str) -> Iterator[dict]:
        """Reference adapters loaded for the call (yields their call arguments), unloaded afterwards."""
        specs = [s for s in self.params.references if s.enabled and s.weight > 0]
        images = [image for s, image in zip(self.params.references, self.inputs.references) if s.enabled and s.weight > 0]
        with references_applied(pipe, specs, images, self.inputs.models, models.references, family) as extra:
            yield extra

    def arguments(self, pipe, prompt: str, negative: str, stack: contextlib.ExitStack) -> dict:
        """Call arguments to add (and prompt/negative_prompt to drop when embeddings replace them).

        Call inside inference mode and inside the LoRAs (they change the text encoders). Regional attention
        is entered on `stack`, so it lasts exactly as long as the caller's block.
        """
        out: dict = {}
        if self.control_specs:
            out.update(control_arguments(self.mode, self.control_specs, self.control_images))
        regions = [(spec, mask) for spec, mask in zip(self.params.regions, self.inputs.regions) if spec.enabled]
        if regions or needs_chunked_encoding(pipe, prompt, negative):
            encoded = encode_prompts(pipe, prompt, negative, tuple(spec.prompt for spec, _ in regions))
            out.update(encoded.call, prompt=None, negative_prompt=None)
            if regions:
                masks = latent_masks([mask for _, mask in regions], self.params.width, self.params.height)
                layout = RegionLayout(masks.to(pipe._execution_device), encoded.main_tokens, encoded.negative_tokens,
                                      encoded.region_tokens, encoded.call["prompt_embeds"].shape[1],
                                      guided=_guided(pipe, self.params.guidance))
                stack.enter_context(regions_applied(_attention_modules(pipe), layout))
        return out


def _guided(pipe, guidance: float) -> bool:
    """Whether the pipeline will run classifier-free guidance (a [negative, positive] batch)."""
    return guidance > 1 and pipe.unet.config.get("time_cond_proj_dim") is None


def _attention_modules(pipe) -> list:
    modules = [pipe.unet]
    controlnet = getattr(pipe, "controlnet", None)
    if controlnet is not None:
        modules += list(getattr(controlnet, "nets", [controlnet]))
    return modules


def _check_counts(params: GenerationParams, inputs: SteeringInputs) -> None:
    for name, specs, images in (("control", params.controls, inputs.controls),
                                ("reference", params.references, inputs.references),
                                ("region", params.regions, inputs.regions)):
        if len(specs) != len(images):
            raise ValueError(f"the job has {len(specs)} {name} settings but {len(images)} {name} images")


def steering_inputs(controls: Sequence = (), references: Sequence = (), regions: Sequence = (),
                    models: Sequence[ModelEntry] = ()) -> SteeringInputs:
    return SteeringInputs(tuple(controls), tuple(references), tuple(regions), tuple(models))
