"""A Stable Diffusion 1.5-size pipeline with random weights, built from the published configs.

Nothing is downloaded: the UNet, VAE and CLIP ViT-L/14 text encoder take the shapes of
runwayml/stable-diffusion-v1-5's published config files; the tokenizer is the byte-level one the
tiny models use (its ids fit the real vocabulary). Speed and memory do not depend on weight values,
so load, generation and memory figures measured with it hold for the real model.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.unet import SD15_UNET

# stable-diffusion-v1-5 vae/config.json and text_encoder/config.json (published), the shaping fields
SD15_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
                block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32, act_fn="silu", sample_size=512,
                scaling_factor=0.18215)
SD15_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                 num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
                 bos_token_id=0, eos_token_id=1, pad_token_id=1)


def build_sd15_size(folder: str | Path, seed: int = 0) -> Path:
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from desktop.engine.tiny_models import clip_tokenizer

    torch.manual_seed(seed)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       num_train_timesteps=1000, steps_offset=1, timestep_spacing="leading")
    pipe = StableDiffusionPipeline(
        unet=UNet2DConditionModel(**SD15_UNET).eval(), vae=AutoencoderKL(**SD15_VAE).eval(),
        text_encoder=CLIPTextModel(CLIPTextConfig(**SD15_TEXT)).eval(), tokenizer=clip_tokenizer(),
        scheduler=scheduler, safety_checker=None, feature_extractor=None, image_encoder=None,
        requires_safety_checker=False,
    )
    folder = Path(folder)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


# Qwen2.5-0.5B's width and heads at half its depth: ~180 M parameters (0.7 GB fp32), decoding at a
# realistic 10-40 tokens/s on a desktop CPU, where the tiny chat model makes ~400 tokens/s
CHAT_SMALL = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=12, num_attention_heads=14,
                  num_key_value_heads=2, max_position_embeddings=4096)


def build_chat_small(folder: str | Path, seed: int = 0) -> Path:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from desktop.engine.tiny_models import chat_tokenizer

    tok = chat_tokenizer()
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(tok), eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         bos_token_id=None, tie_word_embeddings=True, **CHAT_SMALL)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    folder = Path(folder)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


# the layers latent-consistency/lcm-lora-sdv1-5 adapts (its file's keys), at its rank: ~67 M parameters
LCM_LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1",
                    "conv2", "conv_shortcut", "time_emb_proj", "downsamplers.0.conv", "upsamplers.0.conv"]


def build_lcm_lora(model: str | Path, path: str | Path, rank: int = 64, seed: int = 0) -> Path:
    """A random-weight LoRA with LCM-LoRA's layers and rank for the UNet in `model` (diffusers format)."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig, get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(Path(model) / "unet", local_files_only=True)
    torch.manual_seed(seed)
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=LCM_LORA_TARGETS, init_lora_weights=False),
                     adapter_name="lcm")
    state = {k: (v.detach() * 0.01).contiguous() for k, v in get_peft_model_state_dict(unet, adapter_name="lcm").items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(path.parent, unet_lora_layers=state, safe_serialization=True,
                                              weight_name=path.name)
    return path


def build_taesd_size(folder: str | Path, seed: int = 0) -> Path:
    """TAESD at its published size (AutoencoderTiny's defaults are TAESD's), random weights."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    AutoencoderTiny().eval().save_pretrained(folder, safe_serialization=True)
    return Path(folder)
