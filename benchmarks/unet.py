"""One SD 1.5-size UNet step at 512 px with guidance, on the CPU paths that matter, against the CPU's peak.

The UNet is built from the published SD 1.5 UNet config with random weights (nothing downloaded);
its speed does not depend on the weights' values. A step is one call with batch 2 (classifier-free
guidance), latents 64x64, 77 text tokens. FLOPs are counted exactly by torch's FlopCounterMode on
the meta device; the peak is cores x clock x FLOPs per cycle, and a large matrix product shows what
this CPU reaches in practice.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, in_thread, machine, missing, peak_gflops, report_child, run_child

KEYS = ("unet_step_s_512", "unet_gflops", "unet_peak_share")

# runwayml/stable-diffusion-v1-5 unet/config.json (published), the fields that shape the network
SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, norm_eps=1e-5, act_fn="silu",
    center_input_sample=False, downsample_padding=1, flip_sin_to_cos=True, freq_shift=0, mid_block_scale_factor=1,
)


def build_unet(config: dict, device: str = "cpu"):
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device(device):
        return UNet2DConditionModel(**config).eval()


def step_inputs(config: dict, size: int, device: str = "cpu"):
    import torch

    latent = size // 8
    generator = None if device == "meta" else torch.Generator().manual_seed(0)
    sample = torch.randn(2, config["in_channels"], latent, latent, generator=generator, device=device)
    context = torch.randn(2, 77, config["cross_attention_dim"], generator=generator, device=device)
    return sample, torch.tensor(500, device=device), context


def count_flops(config: dict, size: int) -> float:
    """FLOPs of one guided step (batch 2), counted on the meta device: no memory, no time."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    unet = build_unet(config, "meta")
    sample, timestep, context = step_inputs(config, size, "meta")
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        unet(sample, timestep, encoder_hidden_states=context)
    return float(counter.get_total_flops())


def gemm_gflops(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """What a large fp32 matrix product reaches here: the practical ceiling for conv/attention."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_variant(unet, config: dict, size: int, variant: str, threads: int, rounds: int) -> float:
    """Best of `rounds` guided steps (the first includes oneDNN's one-off setup) for one CPU path."""
    import torch

    from desktop.engine.cpu_tuning import apply_memory_format

    torch.set_num_threads(threads)
    apply_memory_format(unet, channels_last=(variant == "channels_last"))
    sample, timestep, context = step_inputs(config, size)
    if variant == "channels_last":
        sample = sample.contiguous(memory_format=torch.channels_last)
    def call():
        with torch.inference_mode():
            unet(sample, timestep, encoder_hidden_states=context)

    # on a thread, as the app's worker runs it (see figures.in_thread)
    return min(in_thread(lambda: _timed(call)) for _ in range(rounds))


def child(scale: str, size: int, rounds: int) -> dict:
    import os

    import torch

    config = SD15_UNET if scale == "sd15" else tiny_config()
    threads = os.cpu_count() or 1
    start = time.perf_counter()
    unet = build_unet(config)
    built_s = time.perf_counter() - start
    times: dict[str, float] = {}
    for variant in ("fp32", "channels_last"):
        times[variant] = time_variant(unet, config, size, variant, threads, rounds)
    small = max(64, size // 2)
    thread_counts = sorted({1, max(1, threads // 2), threads})
    threads_s = {str(n): time_variant(unet, config, small, "fp32", n, rounds) for n in thread_counts}
    torch.set_num_threads(threads)
    return {"times_s": times, "threads_s": threads_s, "threads_size": small, "flops": count_flops(config, size),
            "gemm_gflops": gemm_gflops(threads), "built_s": built_s, "bf16": bf16_note(),
            "params": sum(p.numel() for p in unet.parameters())}


def bf16_note() -> str:
    from desktop.engine.cpu_tuning import cpu_has_native_bf16

    return "native bf16 units present" if cpu_has_native_bf16() else \
        "not measured: this CPU has no bf16 units (no AVX512_BF16/AMX), torch emulates bf16 and runs it slower"


def tiny_config() -> dict:
    config = dict(SD15_UNET)
    config.update(block_out_channels=(32, 32, 64, 64), layers_per_block=1, cross_attention_dim=32)
    return config


def run(ctx: Context) -> dict:
    if ctx.quick:
        return {k: missing("real-size UNet runs only in the full mode (python -m benchmarks, no --quick)")
                for k in KEYS}
    r = run_child("unet", ["sd15", "512", "2"], timeout=1200)
    return figures_from(r, ctx)


def figures_from(r: dict, ctx: Context, size: int = 512) -> dict:
    info = machine()
    peak = peak_gflops(info)
    best_name = min(r["times_s"], key=r["times_s"].get)
    best, fp32 = r["times_s"][best_name], r["times_s"]["fp32"]
    ctx.shared["unet_step_s_512_default"] = best
    gflops = r["flops"] / best / 1e9
    paths = ", ".join(f"{k} {v:.2f} s" for k, v in r["times_s"].items())
    threads = ", ".join(f"{k} thread(s) {v:.2f} s" for k, v in r["threads_s"].items())
    how = (f"SD 1.5 UNet from the published config, random weights ({r['params'] / 1e6:.0f} M params), batch 2 "
           f"(CFG), {size} px, best of 2 calls per path: {paths}; fastest: {best_name}. "
           f"Threads at {r['threads_size']} px: {threads}. bf16: {r['bf16']}")
    return {
        "unet_step_s_512": Figure(best, unit="s", how=how, target="report; fp32 vs fastest path",
                                  samples=list(r["times_s"].values())),
        "unet_step_s_512_fp32": Figure(fp32, unit="s", how="plain fp32, contiguous (NCHW), SDPA attention",
                                       target="reference"),
        "unet_gflops": Figure(gflops, unit="GFLOP/s", target="raise",
                              how=f"{r['flops'] / 1e12:.3f} TFLOP per guided step (torch FlopCounterMode on the meta "
                              f"device) / the fastest step time"),
        "unet_peak_share": Figure(gflops / peak if peak else None, unit="x", target="raise the share",
                                  how=f"achieved GFLOP/s / theoretical fp32 peak {peak:.0f} GFLOP/s "
                                  f"({info.get('cpus')} cores x {info.get('cpu_mhz', 0):.0f} MHz x FLOPs/cycle of "
                                  f"{'+'.join(info.get('simd', []))}); a 2048^2 fp32 matmul reaches "
                                  f"{r['gemm_gflops']:.0f} GFLOP/s here" if peak else "cpu clock unknown"),
        "gemm_gflops": Figure(r["gemm_gflops"], unit="GFLOP/s", target="reference",
                              how="best of 5 fp32 2048x2048 torch.mm: the practical ceiling on this machine"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("scale", choices=("sd15", "tiny"))
    parser.add_argument("size", type=int)
    parser.add_argument("rounds", type=int)
    a = parser.parse_args()
    report_child(child(a.scale, a.size, a.rounds))
