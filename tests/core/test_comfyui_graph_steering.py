"""ComfyUI graphs with steering: control layers, regional prompts, A1111 prompt weights and BREAK (no server)."""

import json

import pytest

from desktop.core.comfyui_graph import (
    CONTROL_NODES,
    REGION_NODES,
    ControlInput,
    GraphInputs,
    RegionInput,
    build_graph,
    required_nodes,
)
from desktop.core.comfyui_prompt import comfyui_chunks
from desktop.core.metadata import comfyui as comfyui_metadata
from desktop.core.params import GenerationParams

PARAMS = GenerationParams(prompt="a harbour", negative_prompt="fog", width=64, height=64, steps=2, seed=3)


def _of(graph, kind):
    return [node["inputs"] for node in graph.nodes.values() if node["class_type"] == kind]


def _node(graph, link):
    return graph.nodes[link[0]]


def _links_resolve(graph):
    for node in graph.nodes.values():
        for value in node["inputs"].values():
            if isinstance(value, list):
                assert value[0] in graph.nodes, f"dangling link {value}"


def test_two_control_layers_chain_with_their_weights_and_ranges_into_every_sampler():
    controls = (ControlInput("canny.safetensors", "c0.png [temp]", 0.8, 0.0, 0.6),
                ControlInput("depth.safetensors", "c1.png [temp]", 1.2, 0.2, 1.0))
    graph = build_graph(PARAMS.replace(batch_size=2), GraphInputs("m.safetensors", controls=controls))
    _links_resolve(graph)
    applied = _of(graph, "ControlNetApplyAdvanced")
    assert [(a["strength"], a["start_percent"], a["end_percent"]) for a in applied] == [(0.8, 0.0, 0.6),
                                                                                       (1.2, 0.2, 1.0)]
    assert [n["control_net_name"] for n in _of(graph, "ControlNetLoader")] == ["canny.safetensors", "depth.safetensors"]
    assert {"c0.png [temp]", "c1.png [temp]"} <= {n["image"] for n in _of(graph, "LoadImage")}
    last = [key for key, node in graph.nodes.items() if node["class_type"] == "ControlNetApplyAdvanced"][-1]
    for sampler in graph.sampler_nodes:  # both prompts of every sampler pass through the last control
        inputs = graph.nodes[sampler]["inputs"]
        assert inputs["positive"] == [last, 0] and inputs["negative"] == [last, 1]
    assert set(CONTROL_NODES) <= set(required_nodes(graph))


def test_without_controls_no_control_node_is_added():
    graph = build_graph(PARAMS, GraphInputs("m.safetensors"))
    assert not set(CONTROL_NODES) & set(required_nodes(graph))


def test_regions_mask_their_prompts_and_the_main_prompt_covers_the_rest():
    regions = (RegionInput("a red boat", "r0.png [temp]"), RegionInput("a (lighthouse:1.3)", "r1.png [temp]"))
    graph = build_graph(PARAMS, GraphInputs("m.safetensors", regions=regions, rest_mask="rest.png [temp]"))
    _links_resolve(graph)
    masks = {node_id: node["inputs"]["image"] for node_id, node in graph.nodes.items()
             if node["class_type"] == "LoadImageMask"}
    assert sorted(masks.values()) == ["r0.png [temp]", "r1.png [temp]", "rest.png [temp]"]
    setters = _of(graph, "ConditioningSetMask")
    assert all(s["strength"] == 1.0 and s["set_cond_area"] == "default" for s in setters)
    masked_text = {masks[s["mask"][0]]: _node(graph, s["conditioning"])["inputs"]["text"] for s in setters}
    assert masked_text == {"rest.png [temp]": "a harbour", "r0.png [temp]": "a red boat",
                           "r1.png [temp]": "a (lighthouse:1.3)"}
    positive = graph.nodes[graph.sampler_nodes[0]]["inputs"]["positive"]
    assert _node(graph, positive)["class_type"] == "ConditioningCombine"
    negative = graph.nodes[graph.sampler_nodes[0]]["inputs"]["negative"]
    assert _node(graph, negative)["inputs"]["text"] == "fog"  # the negative prompt is not masked
    assert set(REGION_NODES) <= set(required_nodes(graph))
    # a ComfyUI-aware reader of the graph still finds the main prompt first
    assert comfyui_metadata.parse(json.dumps(graph.nodes)).prompt.startswith("a harbour")


def test_regions_with_control_layers_steer_the_combined_prompt():
    graph = build_graph(PARAMS, GraphInputs("m.safetensors", regions=(RegionInput("a boat", "r.png"),),
                                            rest_mask="rest.png", controls=(ControlInput("c.safetensors", "c.png"),)))
    applied = _of(graph, "ControlNetApplyAdvanced")[0]
    assert _node(graph, applied["positive"])["class_type"] == "ConditioningCombine"


def test_regions_need_the_rest_mask():
    with pytest.raises(ValueError, match="mask of the rest"):
        build_graph(PARAMS, GraphInputs("m.safetensors", regions=(RegionInput("a boat", "r.png"),)))


@pytest.mark.parametrize("typed, sent", [
    ("a harbour at dusk", ["a harbour at dusk"]),  # plain text goes as typed
    ("a (red:1.3) boat", ["a (red:1.3) boat"]),  # ComfyUI reads this itself
    ("a (tower:1.0)", ["a tower"]),  # weight 1 is the plain text, exactly
    ("a ((red)) boat", ["a (red:1.21) boat"]),  # nested emphasis: the same weight, written out
    ("a [blue] sea", ["a (blue:0.9091) sea"]),  # ComfyUI has no [ ]: A1111's ÷1.1 written as a weight
    ("((a (red:1.5) boat))", ["(a:1.21) (red:1.815) (boat:1.21)"]),  # A1111 multiplies nested explicit weights
    (r"a \(tall\) tower, (sky:0.8)", [r"a \(tall\) tower, (sky:0.8)"]),  # escapes stay escapes
    ("a harbour BREAK a (boat:1.2)", ["a harbour", "a (boat:1.2)"]),
    ("BREAK only BREAK", ["only"]),
    ("", [""]),
])
def test_a1111_prompts_reach_comfyui_with_the_same_weights(typed, sent):
    assert comfyui_chunks(typed) == sent


def test_break_encodes_each_chunk_and_concatenates_them():
    graph = build_graph(PARAMS.replace(prompt="a harbour <lora:ink:0.5> BREAK a (boat:1.2) BREAK fog"),
                        GraphInputs("m.safetensors", loras=(("ink.safetensors", 0.5),)))
    _links_resolve(graph)
    positive = graph.nodes[graph.sampler_nodes[0]]["inputs"]["positive"]
    texts, link = [], positive
    while _node(graph, link)["class_type"] == "ConditioningConcat":
        texts.insert(0, _node(graph, _node(graph, link)["inputs"]["conditioning_from"])["inputs"]["text"])
        link = _node(graph, link)["inputs"]["conditioning_to"]
    texts.insert(0, _node(graph, link)["inputs"]["text"])
    assert texts == ["a harbour", "a (boat:1.2)", "fog"]  # the LoRA tag is a LoraLoader, not text
    assert "ConditioningConcat" in required_nodes(graph)
