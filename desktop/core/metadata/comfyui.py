"""ComfyUI: the `prompt` chunk (API graph) and, failing that, the `workflow` chunk (UI graph).

Settings live on the sampler node; prompts are found by following its positive/negative inputs back
through conditioning nodes to the text-encode nodes, the model by following `model` back to a loader.
Every walk is bounded and remembers where it has been, so cyclic or enormous graphs cannot hang it.
"""

from __future__ import annotations

from typing import Any

from desktop.core.metadata.coerce import MAX_PROMPT, as_dict, as_float, as_int, as_text, loads_json
from desktop.core.metadata.info import GenerationInfo

_MAX_VISITS = 500
_SAMPLERS = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
# inputs that never lead to conditioning: not followed when looking for prompt text
_NOT_CONDITIONING = {"clip", "model", "vae", "image", "images", "pixels", "mask", "control_net", "samples",
                     "latent", "latent_image", "upscale_model", "style_model", "clip_vision_output"}
# UI-graph widget order for the node types whose settings Atelier reads (ComfyUI's node definitions)
_WIDGETS = {
    "KSampler": ("seed", None, "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler",
                         "start_at_step", "end_at_step", "return_with_leftover_noise"),
    "CLIPTextEncode": ("text",),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "RandomNoise": ("noise_seed", None),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "CFGGuider": ("cfg",),
    "FluxGuidance": ("guidance",),
}


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)) and isinstance(value[1], int)


class _Graph:
    """An API-format graph with bounded lookups."""

    def __init__(self, nodes: dict) -> None:
        self.nodes = {str(k): v for k, v in nodes.items() if isinstance(v, dict)}
        self.visits = 0

    def node(self, link: Any) -> tuple[str, dict] | None:
        if not _is_link(link):
            return None
        self.visits += 1
        node = self.nodes.get(str(link[0]))
        return (str(link[0]), node) if node is not None and self.visits < _MAX_VISITS * 4 else None

    @staticmethod
    def kind(node: dict) -> str:
        return str(node.get("class_type", ""))[:100]

    @staticmethod
    def inputs(node: dict) -> dict:
        return as_dict(node.get("inputs"))

    def value(self, node: dict, *names: str) -> Any:
        """A scalar input, following links to primitive nodes (seed/number/string widgets)."""
        inputs = self.inputs(node)
        for name in names:
            if name not in inputs:
                continue
            value, hops = inputs[name], 0
            while _is_link(value) and hops < 20:  # the hop limit also ends cycles
                hops += 1
                found = self.node(value)
                if found is None:
                    return None
                source = self.inputs(found[1])
                scalars = [v for v in source.values() if not _is_link(v) and isinstance(v, (str, int, float))]
                links = [v for v in source.values() if _is_link(v)]
                value = source.get(name, source.get("value", scalars[0] if len(scalars) == 1 else None))
                if value is None and len(links) == 1:
                    value = links[0]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return value
        return None

    def texts(self, link: Any) -> list[str]:
        """Prompt texts reached by walking back from a conditioning input to text-encode nodes."""
        found: list[str] = []
        stack, seen = [link], set()
        while stack and len(seen) < _MAX_VISITS and self.visits < _MAX_VISITS * 4:
            current = self.node(stack.pop())
            if current is None or current[0] in seen:
                continue
            node_id, node = current
            seen.add(node_id)
            if self.kind(node).startswith("CLIPTextEncode") or "text" in self.inputs(node):
                for name in ("text", "text_g", "text_l", "prompt"):
                    text = self.value(node, name)
                    if isinstance(text, str) and text not in found:
                        found.append(text)
                if found:
                    continue
            links = [v for k, v in self.inputs(node).items() if _is_link(v) and k not in _NOT_CONDITIONING]
            stack.extend(reversed(links))
        return found

    def follow(self, link: Any, wanted: tuple[str, ...], via: str, collect: list | None = None) -> dict | None:
        """Walk back along the `via` input until a node has one of `wanted`; LoRA loaders on the way go to `collect`."""
        seen: set[str] = set()
        while len(seen) < _MAX_VISITS:
            current = self.node(link)
            if current is None or current[0] in seen:
                return None
            seen.add(current[0])
            inputs = self.inputs(current[1])
            if collect is not None and "lora_name" in inputs:
                collect.append({"name": self.value(current[1], "lora_name"), "weight": as_float(self.value(current[1], "strength_model"))})
            if any(name in inputs and not _is_link(inputs[name]) for name in wanted):
                return current[1]
            link = inputs.get(via) if _is_link(inputs.get(via)) else next((v for v in inputs.values() if _is_link(v)), None)
        return None


def _pick_sampler(graph: _Graph) -> dict | None:
    samplers = [(k, n) for k, n in graph.nodes.items() if graph.kind(n) in _SAMPLERS]
    if not samplers:
        samplers = [(k, n) for k, n in graph.nodes.items() if {"positive", "negative"} <= set(graph.inputs(n))]
    if not samplers:
        return None

    def order(item: tuple[str, dict]) -> tuple:
        denoise = as_float(graph.value(item[1], "denoise"))
        number = as_int(item[0])
        return (denoise is not None and denoise < 1, number if number is not None else 1 << 62, item[0])

    return min(samplers, key=order)[1]


def parse(prompt_text: Any, workflow_text: Any = None) -> GenerationInfo:
    """Read the API graph; the UI workflow is used only when the API graph is unreadable."""
    graph_data = loads_json(prompt_text)
    if not isinstance(graph_data, dict):
        return parse_workflow(workflow_text) if workflow_text else GenerationInfo(notes=("the ComfyUI graph is not valid JSON",))
    return _read_graph(_Graph(graph_data))


def _read_graph(graph: _Graph, notes: tuple[str, ...] = ()) -> GenerationInfo:
    sampler = _pick_sampler(graph)
    if sampler is None:
        return GenerationInfo(notes=("the ComfyUI graph has no sampler node", *notes))
    inputs = graph.inputs(sampler)
    settings: dict[str, Any] = {name: graph.value(sampler, name) for name in ("steps", "cfg", "sampler_name", "scheduler", "denoise")}
    settings["seed"] = graph.value(sampler, "seed", "noise_seed")
    positive_link, negative_link = inputs.get("positive"), inputs.get("negative")
    parts = {"guider": None, "noise": ("noise_seed",), "sampler": ("sampler_name",), "sigmas": ("steps", "scheduler", "denoise")}
    for name, wanted in parts.items():  # SamplerCustomAdvanced spreads its settings over helper nodes
        found = graph.node(inputs.get(name))
        if found is None:
            continue
        node = found[1]
        if name == "guider":
            positive_link = graph.inputs(node).get("positive", graph.inputs(node).get("conditioning"))
            negative_link = graph.inputs(node).get("negative")
            settings["cfg"] = settings["cfg"] if settings["cfg"] is not None else graph.value(node, "cfg")
            continue
        for key in wanted:
            target = "seed" if key == "noise_seed" else key
            if settings.get(target) is None:
                settings[target] = graph.value(node, key)
    positive, negative = graph.texts(positive_link), graph.texts(negative_link)
    if settings["cfg"] is None and positive_link is not None:
        guidance = graph.follow(positive_link, ("guidance",), "conditioning")
        settings["cfg"] = graph.value(guidance, "guidance") if guidance else None
    loras: list = []
    model_node = graph.follow(inputs.get("model"), ("ckpt_name", "unet_name", "model_name"), "model", loras)
    if model_node is None and inputs.get("guider") is not None:
        guider = graph.node(inputs.get("guider"))
        if guider:
            model_node = graph.follow(graph.inputs(guider[1]).get("model"), ("ckpt_name", "unet_name", "model_name"), "model", loras)
    latent = graph.follow(inputs.get("latent_image"), ("width",), "samples")
    extra: dict[str, Any] = {}
    for key in ("scheduler", "denoise"):
        if settings[key] is not None:
            extra["schedule" if key == "scheduler" else key] = settings[key]
    if loras:
        extra["loras"] = loras
    other = sum(1 for n in graph.nodes.values() if graph.kind(n) in _SAMPLERS) - 1
    if other > 0:
        extra["other_samplers"] = other
    extra["nodes"] = len(graph.nodes)
    return GenerationInfo(
        tool="comfyui",
        prompt="\n".join(positive)[:MAX_PROMPT] if positive else None,
        negative_prompt="\n".join(negative)[:MAX_PROMPT] if negative else None,
        seed=as_int(settings["seed"]),
        steps=as_int(settings["steps"]),
        cfg_scale=as_float(settings["cfg"]),
        sampler=as_text(settings["sampler_name"], 100),
        width=as_int(graph.value(latent, "width")) if latent else None,
        height=as_int(graph.value(latent, "height")) if latent else None,
        model=as_text(graph.value(model_node, "ckpt_name", "unet_name", "model_name"), 500) if model_node else None,
        extra=extra,
        notes=notes + (() if positive else ("no prompt text was found behind the sampler",)),
    )


def parse_workflow(workflow_text: Any) -> GenerationInfo:
    """The UI graph (`workflow` chunk) turned into an API graph for the node types Atelier knows."""
    workflow = loads_json(workflow_text)
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        return GenerationInfo(notes=("the ComfyUI workflow is not valid JSON",))
    origins: dict[Any, list] = {}
    for link in workflow.get("links") or []:
        if isinstance(link, list) and len(link) >= 5 and isinstance(link[2], int):
            origins[link[0] if isinstance(link[0], (int, str)) else None] = [str(link[1]), link[2]]
    nodes: dict[str, dict] = {}
    for node in workflow["nodes"][:5000]:
        if not isinstance(node, dict) or not isinstance(node.get("id"), (int, str)):
            continue
        kind = str(node.get("type", ""))[:100]
        inputs: dict[str, Any] = {}
        widgets = node.get("widgets_values")
        if isinstance(widgets, list):
            for name, value in zip(_WIDGETS.get(kind, ()), widgets):
                if name:
                    inputs[name] = value
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and isinstance(slot.get("name"), str) and slot.get("link") in origins:
                inputs[slot["name"]] = origins[slot["link"]]
        nodes[str(node["id"])] = {"class_type": kind, "inputs": inputs}
    return _read_graph(_Graph(nodes), ("read from the UI workflow: custom nodes may be missed",))
