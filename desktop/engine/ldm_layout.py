"""Write a diffusers pipeline as one file in the original (LDM / A1111) key layout.

Model sites share checkpoints in this layout; Atelier reads them with diffusers' single-file loader.
This writer exists so that tests and benchmarks can make such a file from a tiny (or real-size random)
pipeline and check that importing it gives back the same model. It follows the renaming in diffusers'
scripts/convert_diffusers_to_original_stable_diffusion.py, generalised to any number of blocks and
layers per block (the tiny models have one layer per block), plus SDXL's second text encoder.
"""

from __future__ import annotations

from pathlib import Path

import torch

_RESNET = (("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
           ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection"))
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
}


def _unet_prefixes(config) -> list[tuple[str, str]]:
    """(diffusers prefix, LDM prefix) pairs for every block of a UNet2DConditionModel config."""
    layers = config.layers_per_block
    blocks = len(config.block_out_channels)
    pairs: list[tuple[str, str]] = []
    for i, kind in enumerate(config.down_block_types):
        for j in range(layers):
            index = 1 + i * (layers + 1) + j
            pairs.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{index}.0."))
            if kind.startswith("CrossAttn"):
                pairs.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{index}.1."))
        if i < blocks - 1:
            pairs.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{(i + 1) * (layers + 1)}.0.op."))
    for i, kind in enumerate(getattr(config, "up_block_types", ())):  # a ControlNet has no up blocks
        has_attention = kind.startswith("CrossAttn")
        for j in range(layers + 1):
            index = i * (layers + 1) + j
            pairs.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{index}.0."))
            if has_attention:
                pairs.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{index}.1."))
        if i < blocks - 1:
            index = i * (layers + 1) + layers
            pairs.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{index}.{2 if has_attention else 1}."))
    pairs += [("mid_block.resnets.0.", "middle_block.0."), ("mid_block.attentions.0.", "middle_block.1."),
              ("mid_block.resnets.1.", "middle_block.2.")]
    return pairs


def unet_to_ldm(state: dict, config) -> dict:
    out = {}
    pairs = _unet_prefixes(config)
    for key, value in state.items():
        new = key
        for diffusers_name, ldm_name in _UNET_TOP.items():
            if key.startswith(diffusers_name + "."):
                new = ldm_name + key[len(diffusers_name):]
        for diffusers_prefix, ldm_prefix in pairs:
            if key.startswith(diffusers_prefix):
                rest = key[len(diffusers_prefix):]
                if ".resnets." in diffusers_prefix:
                    for old, ldm in _RESNET:
                        rest = rest.replace(old, ldm) if rest.startswith(old) else rest
                new = ldm_prefix + rest
                break
        out["model.diffusion_model." + new] = value
    return out


def controlnet_to_ldm(state: dict, config) -> dict:
    """A ControlNetModel's weights in the original layout (`control_model.` + UNet names, hint block, zero convs)."""
    special = {"controlnet_cond_embedding.conv_in.": "input_hint_block.0.",
               "controlnet_cond_embedding.conv_out.": f"input_hint_block.{2 * (len(config.conditioning_embedding_out_channels) * 2 - 1)}.",
               "controlnet_mid_block.": "middle_block_out.0."}
    out, rest = {}, {}
    for key, value in state.items():
        new = None
        for diffusers_name, ldm_name in special.items():
            if key.startswith(diffusers_name):
                new = ldm_name + key[len(diffusers_name):]
        parts = key.split(".")
        if key.startswith("controlnet_cond_embedding.blocks."):
            new = f"input_hint_block.{2 * (int(parts[2]) + 1)}." + ".".join(parts[3:])
        elif key.startswith("controlnet_down_blocks."):
            new = f"zero_convs.{parts[1]}.0." + ".".join(parts[2:])
        if new is None:
            rest[key] = value
        else:
            out["control_model." + new] = value
    for key, value in unet_to_ldm(rest, config).items():
        out["control_model." + key.removeprefix("model.diffusion_model.")] = value
    return out


def vae_to_ldm(state: dict, config) -> dict:
    blocks = len(config.block_out_channels)
    pairs = [("mid_block.attentions.0.", "mid.attn_1."), ("mid_block.resnets.0.", "mid.block_1."),
             ("mid_block.resnets.1.", "mid.block_2.")]
    for i in range(blocks):
        up = blocks - 1 - i  # LDM numbers the decoder's up blocks from the bottom
        pairs += [(f"encoder.down_blocks.{i}.resnets.", f"encoder.down.{i}.block."),
                  (f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."),
                  (f"decoder.up_blocks.{i}.resnets.", f"decoder.up.{up}.block."),
                  (f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{up}.upsample.")]
    attention = {"group_norm.": "norm.", "to_q.": "q.", "to_k.": "k.", "to_v.": "v.", "to_out.0.": "proj_out."}
    out = {}
    for key, value in state.items():
        new = key.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
        for diffusers_prefix, ldm_prefix in pairs:
            if diffusers_prefix in new:
                new = new.replace(diffusers_prefix, ldm_prefix)
                break
        if ".attn_1." in new:
            head, _, tail = new.partition(".attn_1.")
            for old, ldm in attention.items():
                if tail.startswith(old):
                    tail = ldm + tail[len(old):]
            new = f"{head}.attn_1.{tail}"
            if tail.endswith("weight") and value.ndim == 2:
                value = value.reshape(*value.shape, 1, 1)  # LDM uses 1x1 convolutions there
        out["first_stage_model." + new] = value
    return out


def clip_to_ldm(state: dict, prefix: str) -> dict:
    """HF CLIP text model (flattened in transformers 5: no `text_model.`) under LDM's HF-CLIP prefix."""
    return {prefix + "text_model." + key.removeprefix("text_model."): value for key, value in state.items()}


def open_clip_to_ldm(state: dict, prefix: str) -> dict:
    """HF CLIP text model with projection to OpenCLIP's layout (fused q/k/v, transposed projection)."""
    out, qkv = {}, {}
    names = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
             "self_attn.out_proj": "attn.out_proj"}
    for key, value in state.items():
        key = key.removeprefix("text_model.")
        if key == "text_projection.weight":
            out[prefix + "text_projection"] = value.T.contiguous()
        elif key == "embeddings.token_embedding.weight":
            out[prefix + "token_embedding.weight"] = value
        elif key == "embeddings.position_embedding.weight":
            out[prefix + "positional_embedding"] = value
        elif key.startswith("final_layer_norm."):
            out[prefix + "ln_final." + key.split(".")[-1]] = value
        elif key.startswith("encoder.layers."):
            layer, rest = key[len("encoder.layers."):].split(".", 1)
            base = f"{prefix}transformer.resblocks.{layer}."
            if rest.startswith(("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")):
                kind = rest.split(".")[-1]
                qkv.setdefault((base, kind), {})[rest[len("self_attn.")]] = value
                continue
            for old, new in names.items():
                if rest.startswith(old):
                    rest = new + rest[len(old):]
            out[base + rest] = value
    for (base, kind), parts in qkv.items():
        out[f"{base}attn.in_proj_{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]])
    return out


def pipeline_to_ldm(pipe) -> dict:
    state = {**unet_to_ldm(pipe.unet.state_dict(), pipe.unet.config),
             **vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config)}
    if getattr(pipe, "text_encoder_2", None) is not None:
        state.update(clip_to_ldm(pipe.text_encoder.state_dict(), "conditioner.embedders.0.transformer."))
        state.update(open_clip_to_ldm(pipe.text_encoder_2.state_dict(), "conditioner.embedders.1.model."))
    elif pipe.text_encoder.config.hidden_act == "gelu":  # SD 2.x: OpenCLIP ViT-H
        state.update(open_clip_to_ldm(pipe.text_encoder.state_dict(), "cond_stage_model.model."))
    else:
        state.update(clip_to_ldm(pipe.text_encoder.state_dict(), "cond_stage_model.transformer."))
    return state


def save_ldm_checkpoint(pipe, path: str | Path, dtype: torch.dtype | None = None) -> Path:
    """Save a pipeline's weights as one .safetensors file in the LDM layout."""
    from safetensors.torch import save_file

    state = pipeline_to_ldm(pipe)
    state = {k: (v.to(dtype) if dtype is not None else v).contiguous() for k, v in state.items()}
    path = Path(path)
    save_file(state, str(path), metadata={"format": "pt"})
    return path
