"""Tiny random-weight models with the real architectures, built offline.

Used by the test suite and by `main.py selftest`: they are saved with `save_pretrained` and loaded
back through the same loader a user's model takes, so every code path is the real one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from desktop.engine.chat import FALLBACK_CHAT_TEMPLATE

# the same ChatML + tools template the engine falls back to, so tests exercise the real one
CHATML_TEMPLATE = FALLBACK_CHAT_TEMPLATE


def clip_tokenizer(max_length: int = 77):
    """A byte-level CLIP tokenizer with no merges: 514 ids, never an unknown token, no vocab files."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
        vocab[symbol + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def _clip_text_config(hidden: int = 32):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=1000, hidden_size=hidden, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
        pad_token_id=1, projection_dim=hidden, hidden_act="quick_gelu",
    )


def _vae(scaling_factor: float, sample_size: int):
    from diffusers import AutoencoderKL

    # four blocks, like the real VAEs, so the latent is 1/8 of the image
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        block_out_channels=(32, 32, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        norm_num_groups=32, sample_size=sample_size, scaling_factor=scaling_factor,
    )


def _scheduler():
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        num_train_timesteps=1000, steps_offset=1, timestep_spacing="leading",
    )


def build_sd15(folder: str | Path, seed: int = 0, cross_attention_dim: int = 32) -> Path:
    """An SD 1.x-layout pipeline (4 UNet blocks, 3 with cross-attention; 4-block VAE) of ~12 MB."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 32, 64, 64),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=cross_attention_dim, attention_head_dim=8, norm_num_groups=32,
    )
    pipe = StableDiffusionPipeline(
        unet=unet.eval(), vae=_vae(0.18215, 512).eval(),
        text_encoder=CLIPTextModel(_clip_text_config(cross_attention_dim)).eval(),
        tokenizer=clip_tokenizer(), scheduler=_scheduler(), safety_checker=None,
        feature_extractor=None, image_encoder=None, requires_safety_checker=False,
    )
    folder = Path(folder)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_sdxl(folder: str | Path, seed: int = 0) -> Path:
    """An SDXL-layout pipeline: two text encoders, text_time added conditioning, 4-block VAE."""
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * 8 + 32,  # six time ids + pooled projection
        cross_attention_dim=64, norm_num_groups=1,
    )
    pipe = StableDiffusionXLPipeline(
        unet=unet.eval(), vae=_vae(0.13025, 1024).eval(),
        text_encoder=CLIPTextModel(_clip_text_config()).eval(),
        text_encoder_2=CLIPTextModelWithProjection(_clip_text_config()).eval(),
        tokenizer=clip_tokenizer(), tokenizer_2=clip_tokenizer(), scheduler=_scheduler(),
        image_encoder=None, feature_extractor=None,
    )
    folder = Path(folder)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_taesd(folder: str | Path, seed: int = 0) -> Path:
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    model = AutoencoderTiny(
        encoder_block_out_channels=(16, 16, 16, 16), decoder_block_out_channels=(16, 16, 16, 16),
        num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1), latent_channels=4,
    ).eval()
    folder = Path(folder)
    model.save_pretrained(folder, safe_serialization=True)
    return folder


def chat_tokenizer(template: str | None = CHATML_TEMPLATE, vocab_size: int = 512):
    """A byte-level BPE tokenizer trained offline on a few sentences, with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = [
        "Hello, how are you today? I am a tiny language model that helps artists.",
        "a watercolor painting of a fox in a misty forest, soft light, detailed",
        "The quick brown fox jumps over the lazy dog.",
    ] * 10
    backend.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, chat_template=template, model_max_length=2048,
    )


def build_chat_lm(folder: str | Path, seed: int = 0, kind: str = "qwen2", template: str | None = CHATML_TEMPLATE,
                  max_positions: int = 2048) -> Path:
    """A two-layer Qwen2 (or Llama) causal LM with its own tokenizer and chat template."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tok = chat_tokenizer(template)
    torch.manual_seed(seed)
    common = dict(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = Qwen2ForCausalLM(Qwen2Config(**common)) if kind == "qwen2" else LlamaForCausalLM(LlamaConfig(**common))
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    folder = Path(folder)
    model.eval().save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder
