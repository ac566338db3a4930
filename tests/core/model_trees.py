"""Fake installs of other apps, laid out as those apps lay them out, with real model-file headers.

The files are valid .safetensors (numpy, tiny shapes: only the header is ever read by discovery) and
valid GGUFs (llama.cpp's own writer), so discovery reads them exactly as it reads a user's files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from tiny_gguf import write_metadata_only_gguf  # tests/ is on the path (its conftest)


def _save(path: Path, tensors: dict[str, tuple[int, ...]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: np.zeros(shape, np.float16) for name, shape in tensors.items()}, str(path))
    return path


def sd15_checkpoint(path: Path) -> Path:
    return _save(path, {
        "model.diffusion_model.input_blocks.0.0.weight": (8, 4, 3, 3),
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 768),
        "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": (4, 8),
        "first_stage_model.decoder.conv_in.weight": (8, 4, 3, 3),
    })


def sd15_lora(path: Path) -> Path:
    return _save(path, {
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": (4, 768),
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight": (8, 4),
    })


def vae(path: Path) -> Path:
    return _save(path, {"decoder.up.0.block.0.conv1.weight": (8, 8, 3, 3), "post_quant_conv.weight": (4, 4, 1, 1)})


def controlnet(path: Path) -> Path:
    return _save(path, {"control_model.input_hint_block.0.weight": (16, 3, 3, 3),
                        "control_model.zero_convs.0.0.weight": (8, 8, 1, 1)})


def pickle_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 60)  # torch.save's zip container
    return path


def a1111(root: Path) -> Path:
    models = root / "models"
    sd15_checkpoint(models / "Stable-diffusion" / "dreamy-v1.safetensors")
    sd15_checkpoint(models / "Stable-diffusion" / "SD15" / "sorted-away.safetensors")  # people sort into folders
    sd15_lora(models / "Lora" / "ink-style.safetensors")
    vae(models / "VAE" / "vae-ft-mse.safetensors")
    controlnet(models / "ControlNet" / "control_v11p_sd15_canny.safetensors")
    pickle_file(models / "ESRGAN" / "4x-UltraSharp.pth")
    (root / "webui.py").write_text("# AUTOMATIC1111\n")
    return root


def comfyui(root: Path, extra_yaml: str | None = None) -> Path:
    models = root / "models"
    sd15_checkpoint(models / "checkpoints" / "comfy-base.safetensors")
    sd15_lora(models / "loras" / "comfy-lora.safetensors")
    vae(models / "vae" / "comfy-vae.safetensors")
    controlnet(models / "controlnet" / "comfy-canny.safetensors")
    pickle_file(models / "upscale_models" / "RealESRGAN_x4plus.pth")
    for empty in ("clip_vision", "diffusion_models", "text_encoders", "unet", "vae_approx"):
        (models / empty).mkdir(parents=True, exist_ok=True)
    if extra_yaml is not None:
        (root / "extra_model_paths.yaml").write_text(extra_yaml, encoding="utf-8")
    return root


def invokeai(root: Path) -> Path:
    (root / "invokeai.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "invokeai.yaml").write_text("schema_version: 4.0.2\n")
    sd15_checkpoint(root / "models" / "sd-1" / "main" / "invoke-main.safetensors")
    sd15_lora(root / "models" / "sd-1" / "lora" / "invoke-lora.safetensors")
    vae(root / "models" / "any" / "vae" / "invoke-vae.safetensors")
    return root


def lm_studio(models: Path) -> Path:
    write_metadata_only_gguf(models / "lmstudio-community" / "Qwen2.5-7B-Instruct-GGUF" /
                             "Qwen2.5-7B-Instruct-Q4_K_M.gguf", "qwen2", "Qwen2.5 7B Instruct", 15)
    write_metadata_only_gguf(models / "lmstudio-community" / "Qwen2.5-7B-Instruct-GGUF" / "mmproj-model-f16.gguf",
                             "clip", "projector", 1)
    return models


def ollama(models: Path, blob_source: Path | None = None) -> dict[str, Path]:
    """Ollama's store: manifests/<registry>/<namespace>/<model>/<tag> naming blobs/sha256-<hex>."""
    blobs = models / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    def add(registry_path: tuple[str, ...], gguf: Path | None) -> None:
        layers = [{"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "1" * 64, "size": 4}]
        if gguf is not None:
            digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
            blob = blobs / f"sha256-{digest}"
            if not blob.exists():
                if blob_source is not None and gguf == blob_source:
                    blob.hardlink_to(gguf)  # the same bytes under Ollama's name, without a copy
                else:
                    gguf.replace(blob)
            layers.insert(0, {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
                              "size": blob.stat().st_size})
            made[registry_path[-2] + ":" + registry_path[-1]] = blob
        manifest = models.joinpath("manifests", *registry_path)
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))

    small = write_metadata_only_gguf(models.parent / "staging" / "llama3.2.gguf", "llama", "Llama 3.2 3B", 15)
    add(("registry.ollama.ai", "library", "llama3.2", "3b"), small)
    other = write_metadata_only_gguf(models.parent / "staging" / "someone.gguf", "qwen2", "Someone's model", 7)
    add(("registry.ollama.ai", "someone", "tiny-helper", "latest"), other)
    if blob_source is not None:
        add(("registry.ollama.ai", "library", "smollm2", "135m"), blob_source)
    add(("registry.ollama.ai", "library", "half-pulled", "latest"), None)  # a manifest with no model layer
    return made


def file_states(root: Path) -> dict[str, tuple[str, int]]:
    """SHA-256 and mtime (ns) of every file under root: to prove nothing was modified."""
    states = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        states[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return states
