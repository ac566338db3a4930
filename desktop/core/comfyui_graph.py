"""ComfyUI API-format graphs for Atelier's generation modes: txt2img, img2img, inpaint and outpaint.

A graph is a dict of node id -> {"class_type", "inputs"}; an input is a value or a link [node id, output].
Every mode shares one chain: checkpoint -> LoRAs -> prompts (BREAK chunks concatenated; regional prompts
masked and combined) -> (control layers) -> one sampler per image
-> decode -> PreviewImage (a temp file on the server: Atelier saves the result itself, with its metadata).
One sampler per image, seeded seed + index, keeps the local rule that image N of a batch is reproduced
by seed + N. Images the server must read (source, mask, control images) are named by the caller after
they are uploaded. Plain Python: tested without a server, and read back by metadata/comfyui.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.comfyui_prompt import comfyui_chunks
from desktop.core.lora_syntax import LoraRef, merge_choices, parse_loras
from desktop.core.params import GenerationParams

# Atelier scheduler -> (ComfyUI sampler_name, scheduler), or None where KSampler has no such sampler:
# the one table; tests walk SCHEDULERS through it, so a new scheduler without a row fails
SAMPLERS: dict[str, tuple[str, str] | None] = {
    "Euler": ("euler", "normal"),
    "Euler a": ("euler_ancestral", "normal"),
    "DPM++ 2M": ("dpmpp_2m", "normal"),
    "DPM++ 2M Karras": ("dpmpp_2m", "karras"),
    "DDIM": ("ddim", "ddim_uniform"),
    "LCM": ("lcm", "sgm_uniform"),
    "TCD": None,  # ComfyUI's KSampler lists no TCD sampler (it needs a custom node)
}

CHECKPOINT_NODE = "CheckpointLoaderSimple"
LORA_NODE = "LoraLoader"
CONTROL_NODES = ("ControlNetLoader", "ControlNetApplyAdvanced")
REGION_NODES = ("LoadImageMask", "ConditioningSetMask", "ConditioningCombine")
PREVIEW_PREFIX = "atelier"


@dataclass(frozen=True)
class ControlInput:
    """One control layer as the server sees it: a ControlNet file on the server and an uploaded image."""

    model: str  # file name in the server's models/controlnet
    image: str  # uploaded image name, as LoadImage reads it
    strength: float = 1.0
    start: float = 0.0  # fraction of the steps where it starts and stops guiding
    end: float = 1.0


@dataclass(frozen=True)
class RegionInput:
    """One regional prompt as the server sees it: the prompt and its uploaded mask (grey, 255 = inside)."""

    prompt: str
    mask: str


@dataclass(frozen=True)
class GraphInputs:
    """What the server needs besides the params: names it knows (after upload and name resolution)."""

    checkpoint: str
    loras: tuple[tuple[str, float], ...] = ()  # server file names and weights
    image: str = ""  # uploaded source image (img2img, inpaint, outpaint), already at params' size
    mask: str = ""  # uploaded mask: grey, 255 = repaint
    vae: str = ""  # a VAE file on the server instead of the checkpoint's own
    controls: tuple[ControlInput, ...] = field(default=())
    regions: tuple[RegionInput, ...] = field(default=())
    rest_mask: str = ""  # uploaded mask of what no region covers: where the main prompt applies (with regions)


@dataclass(frozen=True)
class Graph:
    """A graph ready to queue, and which nodes make the images (in batch order)."""

    nodes: dict
    sampler_nodes: tuple[str, ...]
    output_nodes: tuple[str, ...]


def wanted_loras(params: GenerationParams) -> tuple[str, list[LoraRef]]:
    """The prompt without <lora:...> tags, and every LoRA asked for (panel and prompt; the prompt's weight wins)."""
    prompt, refs = parse_loras(params.prompt)
    return prompt, merge_choices(refs, [LoraRef(name, weight) for name, weight in params.loras])


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}

    def add(self, class_type: str, **inputs) -> str:
        node_id = str(len(self.nodes) + 1)
        self.nodes[node_id] = {"class_type": class_type, "inputs": inputs}
        return node_id


def build_graph(params: GenerationParams, inputs: GraphInputs) -> Graph:
    """The API graph for `params.mode`; raises ValueError when an input the mode needs is missing."""
    if params.mode != "txt2img" and not inputs.image:
        raise ValueError(f"{params.mode} needs a source image")
    if params.mode in ("inpaint", "outpaint") and not inputs.mask:
        raise ValueError(f"{params.mode} needs a mask: paint where the image should change")
    if SAMPLERS.get(params.scheduler) is None:
        choices = ", ".join(name for name, row in SAMPLERS.items() if row)
        raise ValueError(f"ComfyUI's KSampler has no {params.scheduler} sampler: choose one of {choices}")
    prompt, _ = wanted_loras(params)
    g = _Builder()
    loader = g.add(CHECKPOINT_NODE, ckpt_name=inputs.checkpoint)
    model, clip, vae = [loader, 0], [loader, 1], [loader, 2]
    if inputs.vae:
        vae = [g.add("VAELoader", vae_name=inputs.vae), 0]
    for name, weight in inputs.loras:
        lora = g.add(LORA_NODE, model=model, clip=clip, lora_name=name, strength_model=weight, strength_clip=weight)
        model, clip = [lora, 0], [lora, 1]
    positive = _regional(g, _encode(g, prompt, clip), clip, inputs)
    negative = _encode(g, params.negative_prompt, clip)
    positive, negative = _apply_controls(g, positive, negative, vae, inputs.controls)
    latent, denoise = _start_latent(g, params, inputs, vae)
    sampler_name, scheduler = SAMPLERS[params.scheduler]
    samplers, outputs = [], []
    for index in range(params.batch_size):
        sampler = g.add("KSampler", model=model, positive=positive, negative=negative, latent_image=latent,
                        seed=params.seed + index, steps=params.steps, cfg=params.guidance,
                        sampler_name=sampler_name, scheduler=scheduler, denoise=denoise)
        decoded = g.add("VAEDecode", samples=[sampler, 0], vae=vae)
        outputs.append(g.add("PreviewImage", images=[decoded, 0]))
        samplers.append(sampler)
    return Graph(g.nodes, tuple(samplers), tuple(outputs))


def _encode(g: _Builder, prompt: str, clip: list) -> list:
    """CLIPTextEncode of the prompt; each BREAK-separated chunk encoded alone and concatenated (comfyui_prompt)."""
    chunks = comfyui_chunks(prompt)
    encoded = [g.add("CLIPTextEncode", text=chunks[0], clip=clip), 0]
    for chunk in chunks[1:]:
        more = [g.add("CLIPTextEncode", text=chunk, clip=clip), 0]
        encoded = [g.add("ConditioningConcat", conditioning_to=encoded, conditioning_from=more), 0]
    return encoded


def _regional(g: _Builder, positive: list, clip: list, inputs: GraphInputs) -> list:
    """Regional prompts: each region's prompt masked to its region, the main prompt to the rest, combined.

    As in the local engine, a pixel inside a region reads that region's prompt (where regions overlap, the
    server averages their predictions) and a pixel outside every region reads the main prompt.
    """
    if not inputs.regions:
        return positive
    if not inputs.rest_mask:
        raise ValueError("regional prompts need the mask of the rest of the picture")
    rest = g.add("LoadImageMask", image=inputs.rest_mask, channel="red")
    combined = [g.add("ConditioningSetMask", conditioning=positive, mask=[rest, 0], strength=1.0,
                      set_cond_area="default"), 0]
    for region in inputs.regions:
        mask = g.add("LoadImageMask", image=region.mask, channel="red")
        masked = g.add("ConditioningSetMask", conditioning=_encode(g, region.prompt, clip), mask=[mask, 0],
                       strength=1.0, set_cond_area="default")
        combined = [g.add("ConditioningCombine", conditioning_1=combined, conditioning_2=[masked, 0]), 0]
    return combined


def _start_latent(g: _Builder, params: GenerationParams, inputs: GraphInputs, vae: list) -> tuple[list, float]:
    if params.mode == "txt2img":
        return [g.add("EmptyLatentImage", width=params.width, height=params.height, batch_size=1), 0], 1.0
    image = g.add("LoadImage", image=inputs.image)
    latent = [g.add("VAEEncode", pixels=[image, 0], vae=vae), 0]
    if params.mode in ("inpaint", "outpaint"):
        # the mask is grey (255 = repaint); LoadImageMask reads its red channel as 0..1 without inverting
        mask = g.add("LoadImageMask", image=inputs.mask, channel="red")
        latent = [g.add("SetLatentNoiseMask", samples=latent, mask=[mask, 0]), 0]
    return latent, float(params.strength)


def _apply_controls(g: _Builder, positive: list, negative: list, vae: list,
                    controls: tuple[ControlInput, ...]) -> tuple[list, list]:
    """Each control layer guides both prompts through ControlNetApplyAdvanced, in order."""
    for control in controls:
        net = g.add("ControlNetLoader", control_net_name=control.model)
        image = g.add("LoadImage", image=control.image)
        applied = g.add("ControlNetApplyAdvanced", positive=positive, negative=negative, control_net=[net, 0],
                        image=[image, 0], strength=control.strength, start_percent=control.start,
                        end_percent=control.end, vae=vae)
        positive, negative = [applied, 0], [applied, 1]
    return positive, negative


def required_nodes(graph: Graph) -> list[str]:
    """The node types the server must have, in first-use order."""
    return list(dict.fromkeys(node["class_type"] for node in graph.nodes.values()))


def resolve_name(wanted: str, available: list[str], what: str, where: str) -> str:
    """A server file name for what the user wrote: exact, else by stem ("ink" -> "styles/ink.safetensors").

    Raises LookupError naming what the server has when nothing (or more than one file) matches.
    """
    if wanted in available:
        return wanted
    key = _stem(wanted)
    matches = [name for name in available if _stem(name) == key or name.lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise LookupError(f"{where} has more than one {what} called {wanted!r}: {', '.join(matches)}; "
                          "write the full name")
    have = ", ".join(available[:20]) + (f" and {len(available) - 20} more" if len(available) > 20 else "")
    raise LookupError(f"{where} has no {what} {wanted!r}" + (f"; it has: {have}" if available else
                                                                 f"; it has no {what}s at all"))


def _stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".safetensors", ".ckpt", ".pt", ".pth", ".bin"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base.lower()
