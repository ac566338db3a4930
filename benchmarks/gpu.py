"""GPU figures (SD 1.5-size at 512 px and SDXL-size at 1024 px, it/s), next to published A100 figures.

Measured only where CUDA is available; elsewhere they are null with the reason.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, missing, report_child, run_child

KEYS = ("gpu_sd15_512_its", "gpu_sdxl_1024_its")
PUBLISHED = "published A100, SD 1.5 512 px: 31 it/s with SDPA, 47 it/s compiled + channels_last (fal benchmarks)"

SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10), use_linear_projection=True,
    cross_attention_dim=2048, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32,
)


def child(steps: int) -> dict:
    import torch

    from benchmarks.unet import SD15_UNET, build_unet, step_inputs

    out = {"device": torch.cuda.get_device_name(0)}
    for name, config, size in (("sd15", SD15_UNET, 512), ("sdxl", SDXL_UNET, 1024)):
        unet = build_unet(config, "cuda").half()
        sample, timestep, context = (t.half() if t.is_floating_point() else t for t in step_inputs(config, size, "cuda"))
        extra = {}
        if name == "sdxl":
            extra["added_cond_kwargs"] = {"text_embeds": torch.randn(2, 1280, device="cuda", dtype=torch.half),
                                          "time_ids": torch.randn(2, 6, device="cuda", dtype=torch.half)}
        with torch.inference_mode():
            for _ in range(3):
                unet(sample, timestep, encoder_hidden_states=context, **extra)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                unet(sample, timestep, encoder_hidden_states=context, **extra)
            torch.cuda.synchronize()
        out[name] = steps / (time.perf_counter() - start)
        del unet
        torch.cuda.empty_cache()
    return out


def run(ctx: Context) -> dict:
    try:
        import torch
    except ImportError as error:
        return {k: missing(f"torch missing: {error}") for k in KEYS}
    if not torch.cuda.is_available():
        reason = "no CUDA GPU on this machine (CPU-only torch build or no device); " + PUBLISHED
        return {k: missing(reason) for k in KEYS}
    r = run_child("gpu", ["10" if ctx.quick else "30"])
    how = f"guided UNet steps/s (batch 2), fp16, SDPA, random weights from the published config on {r['device']}; "
    return {"gpu_sd15_512_its": Figure(r["sd15"], unit="it/s", how=how + PUBLISHED, target="31 it/s (A100, SDPA)"),
            "gpu_sdxl_1024_its": Figure(r["sdxl"], unit="it/s", how=how + "SDXL-size at 1024 px", target="report")}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("steps", type=int)
    report_child(child(parser.parse_args().steps))
