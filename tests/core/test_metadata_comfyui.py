"""ComfyUI graphs: the sampler's inputs are followed back to prompts, model, LoRAs and size."""

from __future__ import annotations

import json

from desktop.core.metadata import comfyui, read_metadata
from tests.core.metadata_samples import comfy_default_graph, comfy_png


def test_default_graph_with_a_lora(tmp_path):
    info = read_metadata(comfy_png(tmp_path / "c.png", comfy_default_graph(), workflow={"nodes": []}))
    assert info.tool == "comfyui"
    assert (info.prompt, info.negative_prompt) == ("beautiful scenery, glass bottle", "text, watermark")
    assert (info.seed, info.steps, info.cfg_scale, info.sampler) == (156680208700286, 20, 8.0, "dpmpp_2m")
    assert (info.width, info.height, info.model) == (512, 768, "v1-5-pruned-emaonly.safetensors")
    assert info.extra["loras"] == [{"name": "styles/film_grain.safetensors", "weight": 0.7}]
    params, dropped = info.adapt()
    assert params.scheduler == "DPM++ 2M Karras" and params.loras == (("film_grain", 0.7),)
    assert any("seed" in d for d in dropped)  # ComfyUI seeds go past 2**32


def test_prompts_behind_conditioning_nodes_and_a_seed_primitive():
    graph = comfy_default_graph(seed=["20", 0])
    graph["20"] = {"class_type": "PrimitiveNode", "inputs": {"value": 42}}
    graph["11"] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["12", 0]}}
    graph["12"] = {"class_type": "CLIPTextEncode", "inputs": {"text": ["13", 0], "clip": ["4", 1]}}
    graph["13"] = {"class_type": "String Literal", "inputs": {"string": "golden hour"}}
    graph["14"] = {"class_type": "ControlNetApply", "inputs": {"conditioning": ["11", 0], "control_net": ["15", 0],
                                                               "image": ["16", 0], "strength": 0.8}}
    graph["3"]["inputs"]["positive"] = ["14", 0]
    info = comfyui.parse(json.dumps(graph))
    assert info.prompt == "beautiful scenery, glass bottle\ngolden hour"
    assert info.seed == 42


def test_sdxl_text_encoder_and_advanced_sampler():
    graph = comfy_default_graph()
    graph["3"] = {"class_type": "KSamplerAdvanced", "inputs": {"add_noise": "enable", "noise_seed": 7, "steps": 30,
                  "cfg": 5.5, "sampler_name": "euler_ancestral", "scheduler": "normal", "start_at_step": 0,
                  "end_at_step": 30, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
                  "latent_image": ["5", 0]}}
    graph["6"] = {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": "a castle", "text_l": "a castle, detailed",
                  "width": 1024, "height": 1024, "clip": ["4", 1]}}
    info = comfyui.parse(json.dumps(graph))
    assert info.prompt == "a castle\na castle, detailed"
    assert (info.seed, info.steps, info.cfg_scale) == (7, 30, 5.5)
    assert info.to_params().scheduler == "Euler a"


def test_flux_custom_sampler_spreads_settings_over_helper_nodes():
    graph = {
        "13": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["25", 0], "guider": ["22", 0],
               "sampler": ["16", 0], "sigmas": ["17", 0], "latent_image": ["27", 0]}},
        "25": {"class_type": "RandomNoise", "inputs": {"noise_seed": 991}},
        "22": {"class_type": "BasicGuider", "inputs": {"model": ["12", 0], "conditioning": ["26", 0]}},
        "26": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["6", 0]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a neon sign", "clip": ["11", 0]}},
        "16": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "17": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 20, "denoise": 1, "model": ["12", 0]}},
        "12": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
        "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
    }
    info = comfyui.parse(json.dumps(graph))
    assert (info.prompt, info.seed, info.steps, info.sampler) == ("a neon sign", 991, 20, "euler")
    assert (info.cfg_scale, info.width, info.height, info.model) == (3.5, 1024, 768, "flux1-dev.safetensors")


def test_a_cyclic_graph_ends():
    graph = {
        "1": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "positive": ["2", 0], "negative": ["3", 0],
              "model": ["2", 0], "latent_image": ["3", 0], "steps": 5, "cfg": 7, "sampler_name": "euler"}},
        "2": {"class_type": "Loop", "inputs": {"a": ["3", 0], "model": ["3", 0]}},
        "3": {"class_type": "Loop", "inputs": {"b": ["2", 0], "model": ["2", 0], "samples": ["2", 0]}},
    }
    info = comfyui.parse(json.dumps(graph))
    assert info.tool == "comfyui" and info.steps == 5 and info.prompt is None
    assert any("no prompt text" in note for note in info.notes)


def test_ui_workflow_alone_is_read(tmp_path):
    workflow = {
        "nodes": [
            {"id": 3, "type": "KSampler", "widgets_values": [99, "fixed", 25, 6, "euler", "normal", 1],
             "inputs": [{"name": "model", "link": 1}, {"name": "positive", "link": 4}, {"name": "negative", "link": 6},
                        {"name": "latent_image", "link": 2}]},
            {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["dreamshaper_8.safetensors"], "inputs": []},
            {"id": 5, "type": "EmptyLatentImage", "widgets_values": [640, 448, 1]},
            {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse"], "inputs": [{"name": "clip", "link": 3}]},
            {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["fog"], "inputs": [{"name": "clip", "link": 5}]},
        ],
        "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
                  [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"]],
    }
    path = tmp_path / "w.png"
    from tests.core.metadata_samples import png

    info = read_metadata(png(path, {"workflow": json.dumps(workflow)}))
    assert (info.tool, info.prompt, info.negative_prompt) == ("comfyui", "a lighthouse", "fog")
    assert (info.seed, info.steps, info.cfg_scale, info.width, info.height) == (99, 25, 6.0, 640, 448)
    assert info.model == "dreamshaper_8.safetensors"
    assert any("UI workflow" in note for note in info.notes)


def test_a_graph_without_a_sampler():
    info = comfyui.parse(json.dumps({"1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}}}))
    assert not info.found and "no sampler" in info.notes[0]
