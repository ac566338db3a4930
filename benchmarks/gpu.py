"""GPU figures: guided UNet steps per second for SD 1.5 at 512 px and SDXL at 1024 px, by configuration.

Where CUDA exists, each model (random weights from the published config, batch 2 = one guided step)
runs in these configurations, each in the same fresh process, warmed up before timing:
  fp16 + SDPA (diffusers' default attention on torch 2), fp16 + the classic attention (AttnProcessor,
  the pre-SDPA path), bf16 + SDPA, fp16 + SDPA + channels_last, and fp16 + SDPA + channels_last +
  torch.compile (mode "max-autotune-no-cudagraphs" would take minutes; "reduce-overhead" is what the
  published 47 it/s used with fullgraph). The key figures are the fastest configuration's.
Elsewhere every figure is null with the reason.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, at_least, missing, report_child, run_child

KEYS = ("gpu_sd15_512_its", "gpu_sdxl_1024_its")
PUBLISHED = "published A100, SD 1.5 512 px: 31 it/s with SDPA, 47 it/s compiled + channels_last (fal benchmarks)"
CONFIGS = ("fp16_sdpa", "fp16_classic_attention", "bf16_sdpa", "fp16_sdpa_channels_last", "fp16_sdpa_channels_last_compiled")

SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10), use_linear_projection=True,
    cross_attention_dim=2048, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32,
)


def configured_unet(config: dict, name: str, dtype_name: str):
    """The UNet on CUDA in one configuration (dtype, attention processor, layout, compiled or not)."""
    import torch
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    from benchmarks.unet import build_unet

    dtype = torch.bfloat16 if dtype_name == "bf16" else torch.float16
    unet = build_unet(config, "cuda").to(dtype)
    unet.set_attn_processor(AttnProcessor() if "classic" in name else AttnProcessor2_0())
    if "channels_last" in name:
        unet = unet.to(memory_format=torch.channels_last)
    if "compiled" in name:
        torch._inductor.config.conv_1x1_as_mm = True  # the settings the published compiled figure used
        torch._inductor.config.coordinate_descent_tuning = True
        torch._inductor.config.epilogue_fusion = False
        unet = torch.compile(unet, mode="max-autotune", fullgraph=True)
    return unet, dtype


def steps_per_second(unet, inputs: tuple, extra: dict, steps: int, warmup: int) -> float:
    import torch

    sample, timestep, context = inputs
    with torch.inference_mode():
        for _ in range(warmup):
            unet(sample, timestep, encoder_hidden_states=context, **extra)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            unet(sample, timestep, encoder_hidden_states=context, **extra)
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def child(steps: int, configs: list[str]) -> dict:
    import torch

    from benchmarks.unet import SD15_UNET, step_inputs

    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    for model, config, size in (("sd15", SD15_UNET, 512), ("sdxl", SDXL_UNET, 1024)):
        for name in configs:
            dtype_name = "bf16" if name.startswith("bf16") else "fp16"
            try:
                unet, dtype = configured_unet(config, name, dtype_name)
                # made on the CPU (a CPU generator cannot fill CUDA tensors), then moved
                inputs = tuple((t.to(dtype) if t.is_floating_point() else t).to("cuda")
                               for t in step_inputs(config, size, "cpu"))
                extra = {}
                if model == "sdxl":
                    extra["added_cond_kwargs"] = {"text_embeds": torch.randn(2, 1280, device="cuda", dtype=dtype),
                                                  "time_ids": torch.randn(2, 6, device="cuda", dtype=dtype)}
                warmup = 10 if "compiled" in name else 3  # compiling happens in the first calls
                out[f"{model}_{name}"] = steps_per_second(unet, inputs, extra, steps, warmup)
            except Exception as error:  # noqa: BLE001 - one configuration failing keeps the others' figures
                out[f"{model}_{name}"] = None
                out[f"{model}_{name}_error"] = f"{type(error).__name__}: {str(error)[:200]}"
            finally:
                unet = None
                torch.cuda.empty_cache()
    return out


def run(ctx: Context) -> dict:
    try:
        import torch
    except ImportError as error:
        return {k: missing(f"torch missing: {error}") for k in KEYS}
    if not torch.cuda.is_available():
        reason = (f"no CUDA GPU on this machine ({torch.__version__}, CPU-only build or no device): not measured; "
                  f"configurations it would measure: {', '.join(CONFIGS)}; {PUBLISHED}")
        return {k: missing(reason, target=">= 47 it/s (H100/A100 class)" if "sd15" in k else "report") for k in KEYS}
    configs = list(CONFIGS[:3]) if ctx.quick else list(CONFIGS)
    r = run_child("gpu", ["10" if ctx.quick else "30", *configs], timeout=1800)
    figures = {}
    for model, key, size in (("sd15", "gpu_sd15_512_its", 512), ("sdxl", "gpu_sdxl_1024_its", 1024)):
        measured = {name: r.get(f"{model}_{name}") for name in configs}
        best = max((name for name in configs if measured[name]), key=lambda n: measured[n], default=None)
        how = (f"guided UNet steps/s (batch 2) at {size} px on {r['device']} (torch {r['torch']}), random weights from "
               "the published config; by configuration: " +
               ", ".join(f"{n} {v:.1f}" if v else f"{n} failed ({r.get(f'{model}_{n}_error', '')})"
                         for n, v in measured.items()) + f"; fastest: {best}; {PUBLISHED}")
        value = measured[best] if best else None
        figures[key] = (at_least(value, 47, unit="it/s", how=how) if model == "sd15"
                        else Figure(value, unit="it/s", how=how, target="report"))
        for name in configs:
            figures[f"{key}_{name}"] = Figure(measured[name], unit="it/s", target="reference", how=f"{model} {name}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("steps", type=int)
    parser.add_argument("configs", nargs="+")
    args = parser.parse_args()
    report_child(child(args.steps, args.configs))
