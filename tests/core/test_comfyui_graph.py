"""ComfyUI graphs: every mode's chain, LoRAs, control layers, batches; read back by the ComfyUI metadata reader."""

import json

import pytest

from desktop.core.comfyui_graph import (
    SAMPLERS,
    ControlInput,
    GraphInputs,
    build_graph,
    required_nodes,
    resolve_name,
)
from desktop.core.metadata import comfyui as comfyui_metadata
from desktop.core.params import SCHEDULERS, GenerationParams


def _kinds(graph):
    return [node["class_type"] for node in graph.nodes.values()]


def _links_resolve(graph):
    for node in graph.nodes.values():
        for value in node["inputs"].values():
            if isinstance(value, list):
                assert value[0] in graph.nodes, f"dangling link {value}"


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_has_a_comfyui_sampler_or_is_refused_by_name(scheduler):
    assert scheduler in SAMPLERS  # a new scheduler needs a row
    params = GenerationParams(prompt="x", scheduler=scheduler, width=64, height=64)
    if SAMPLERS[scheduler] is None:
        with pytest.raises(ValueError, match=f"ComfyUI's KSampler has no {scheduler} sampler: choose one of Euler"):
            build_graph(params, GraphInputs("m.safetensors"))
        return
    graph = build_graph(params, GraphInputs("m.safetensors"))
    sampler = graph.nodes[graph.sampler_nodes[0]]["inputs"]
    assert (sampler["sampler_name"], sampler["scheduler"]) == SAMPLERS[scheduler]


def test_txt2img_with_prompt_loras_reads_back_as_comfyui_metadata():
    params = GenerationParams(prompt="a lighthouse <lora:ink:0.6>, dusk", negative_prompt="blurry", width=96,
                              height=64, steps=3, guidance=5.5, seed=41, scheduler="DPM++ 2M Karras",
                              loras=(("grain", 0.3),))
    graph = build_graph(params, GraphInputs("dream.safetensors", loras=(("grain.safetensors", 0.3),
                                                                          ("styles/ink.safetensors", 0.6))))
    _links_resolve(graph)
    assert _kinds(graph).count("LoraLoader") == 2
    info = comfyui_metadata.parse(json.dumps(graph.nodes))
    assert info.prompt == "a lighthouse, dusk"  # the tag is a LoRA node now, not prompt text
    assert info.negative_prompt == "blurry"
    assert (info.seed, info.steps, info.cfg_scale, info.width, info.height) == (41, 3, 5.5, 96, 64)
    assert info.model == "dream.safetensors"
    assert [lora["name"] for lora in info.extra["loras"]] == ["styles/ink.safetensors", "grain.safetensors"]


def test_batch_has_one_sampler_per_image_seeded_seed_plus_index():
    params = GenerationParams(prompt="x", width=64, height=64, seed=10, batch_size=3)
    graph = build_graph(params, GraphInputs("m.safetensors"))
    seeds = [graph.nodes[node]["inputs"]["seed"] for node in graph.sampler_nodes]
    assert seeds == [10, 11, 12]
    assert len(graph.output_nodes) == 3
    assert all(graph.nodes[n]["class_type"] == "PreviewImage" for n in graph.output_nodes)


@pytest.mark.parametrize("mode", ["img2img", "inpaint", "outpaint"])
def test_image_modes_read_the_uploaded_source_and_denoise_by_strength(mode):
    params = GenerationParams(prompt="x", width=64, height=64, mode=mode, strength=0.4)
    graph = build_graph(params, GraphInputs("m.safetensors", image="src.png [temp]", mask="mask.png [temp]"))
    _links_resolve(graph)
    kinds = _kinds(graph)
    assert "EmptyLatentImage" not in kinds and "VAEEncode" in kinds
    load = next(n for n in graph.nodes.values() if n["class_type"] == "LoadImage")
    assert load["inputs"]["image"] == "src.png [temp]"
    assert graph.nodes[graph.sampler_nodes[0]]["inputs"]["denoise"] == 0.4
    masked = "SetLatentNoiseMask" in kinds
    assert masked == (mode != "img2img")
    if masked:
        mask = next(n for n in graph.nodes.values() if n["class_type"] == "LoadImageMask")
        assert mask["inputs"] == {"image": "mask.png [temp]", "channel": "red"}


def test_modes_refuse_missing_inputs():
    with pytest.raises(ValueError, match="source image"):
        build_graph(GenerationParams(mode="img2img", width=64, height=64), GraphInputs("m"))
    with pytest.raises(ValueError, match="mask"):
        build_graph(GenerationParams(mode="inpaint", width=64, height=64), GraphInputs("m", image="a.png"))


def test_control_layers_chain_through_both_prompts():
    params = GenerationParams(prompt="x", width=64, height=64)
    controls = (ControlInput("canny.safetensors", "edges.png [temp]", 0.8, 0.0, 0.6),
                ControlInput("depth.safetensors", "depth.png [temp]"))
    graph = build_graph(params, GraphInputs("m", controls=controls))
    _links_resolve(graph)
    applied = [i for i, n in graph.nodes.items() if n["class_type"] == "ControlNetApplyAdvanced"]
    assert len(applied) == 2
    second = graph.nodes[applied[1]]["inputs"]
    assert second["positive"] == [applied[0], 0] and second["negative"] == [applied[0], 1]
    sampler = graph.nodes[graph.sampler_nodes[0]]["inputs"]
    assert sampler["positive"] == [applied[1], 0] and sampler["negative"] == [applied[1], 1]
    assert graph.nodes[applied[0]]["inputs"]["end_percent"] == 0.6
    assert {"ControlNetLoader", "ControlNetApplyAdvanced"} <= set(required_nodes(graph))


def test_names_resolve_exactly_or_by_stem_and_say_what_the_server_has():
    have = ["sd15.safetensors", "styles/ink.safetensors", "a/dup.ckpt", "b/dup.safetensors"]
    assert resolve_name("sd15.safetensors", have, "checkpoint", "S") == "sd15.safetensors"
    assert resolve_name("INK", have, "LoRA", "S") == "styles/ink.safetensors"
    with pytest.raises(LookupError, match="more than one LoRA called 'dup'"):
        resolve_name("dup", have, "LoRA", "S")
    with pytest.raises(LookupError, match="S has no checkpoint 'sdxl'; it has: sd15.safetensors"):
        resolve_name("sdxl", have, "checkpoint", "S")
    with pytest.raises(LookupError, match="no LoRAs at all"):
        resolve_name("ink", [], "LoRA", "S")


def test_a_chosen_vae_decodes_and_encodes_instead_of_the_checkpoints_own():
    params = GenerationParams(prompt="x", width=64, height=64, mode="img2img")
    graph = build_graph(params, GraphInputs("m", image="a.png", vae="kl-f8.safetensors"))
    vae = next(i for i, n in graph.nodes.items() if n["class_type"] == "VAELoader")
    users = [n for n in graph.nodes.values() if n["class_type"] in ("VAEEncode", "VAEDecode")]
    assert users and all(n["inputs"]["vae"] == [vae, 0] for n in users)
