"""What steering costs per denoising step: one control layer, and two regional prompts, against a plain step.

A step is one guided UNet call (batch 2, classifier-free guidance), as the pipelines make it:
  plain    UNet(latents, t, 77 text tokens)
  control  ControlNet(latents, t, text, control image) then UNet(..., + its residuals): what a ControlNet
           pipeline does per step with one control layer (the ControlNet is `from_unet` of the same UNet)
  regions  UNet with the engine's RegionalAttention on every attention layer, 3 x 77 tokens (main prompt and two
           regions, left and right halves): what the engine runs per step with two region layers
Full mode: the SD 1.5-size UNet (published config, random weights) at 512 px, in a child process (about 6 GB);
quick mode: the tiny UNet at 64 px, where Python overhead, not arithmetic, is most of a step. Weights are
random: the time does not depend on their values. Variants alternate, first one round to warm oneDNN.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, at_most, in_thread, median, report_child, run_child
from benchmarks.unet import SD15_UNET, build_unet, tiny_config

KEYS = ("control_step_ratio", "regions_step_ratio", "control_flops_ratio", "regions_flops_ratio")


def _variants(unet, controlnet, size: int, width: int, device: str = "cpu"):
    """The three step calls (plain, control, regions) on inputs made on `device`, and the regions layout."""
    import torch

    from desktop.engine.regions import RegionLayout

    generator = None if device == "meta" else torch.Generator().manual_seed(0)
    latent = size // 8
    sample = torch.randn(2, 4, latent, latent, generator=generator, device=device)
    if device != "meta":
        sample = sample.contiguous(memory_format=torch.channels_last)
    text = torch.randn(2, 77, width, generator=generator, device=device)
    three = torch.randn(2, 3 * 77, width, generator=generator, device=device)
    hint = torch.rand(2, 3, size, size, generator=generator, device=device)
    timestep = torch.tensor(500, device=device)
    masks = torch.zeros(2, latent, latent)
    masks[0, :, : latent // 2] = 1
    masks[1, :, latent // 2:] = 1
    layout = RegionLayout(masks, 77, 77, [(77, 154), (154, 231)], 231, guided=True)

    def plain():
        unet(sample, timestep, encoder_hidden_states=text)

    def control():
        down, mid = controlnet(sample, timestep, encoder_hidden_states=text, controlnet_cond=hint,
                               conditioning_scale=1.0, return_dict=False)
        unet(sample, timestep, encoder_hidden_states=text, down_block_additional_residuals=down,
             mid_block_additional_residual=mid)

    def regions():
        unet(sample, timestep, encoder_hidden_states=three)

    return {"plain": plain, "control": control, "regions": regions}, layout


def count_flops(config: dict, size: int) -> dict[str, float]:
    """FLOPs of each variant's step, counted exactly on the meta device (no memory, no time, no noise)."""
    import contextlib

    import torch
    from diffusers import ControlNetModel
    from torch.utils.flop_counter import FlopCounterMode

    from desktop.engine.regions import regions_applied

    unet = build_unet(config, "meta")
    with torch.device("meta"):
        controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False).eval()
    variants, layout = _variants(unet, controlnet, size, config["cross_attention_dim"], "meta")
    flops = {}
    for name, call in variants.items():
        installed = regions_applied([unet], layout) if name == "regions" else contextlib.nullcontext()
        with installed, FlopCounterMode(display=False) as counter, torch.inference_mode():
            call()
        flops[name] = float(counter.get_total_flops())
    return flops


def child(scale: str, size: int, rounds: int) -> dict:
    import os

    import torch
    from diffusers import ControlNetModel

    from desktop.engine.cpu_tuning import apply_memory_format
    from desktop.engine.regions import regions_applied

    torch.set_num_threads(os.cpu_count() or 1)
    config = SD15_UNET if scale == "sd15" else tiny_config()
    unet = build_unet(config)
    controlnet = ControlNetModel.from_unet(unet).eval()
    for module in (unet, controlnet):
        apply_memory_format(module, channels_last=True)  # the engine's CPU layout
    variants, layout = _variants(unet, controlnet, size, config["cross_attention_dim"])
    regions = variants["regions"]
    times: dict[str, list[float]] = {name: [] for name in variants}

    def timed(fn) -> float:
        import contextlib

        # the engine installs the regional processors once per generation, not per step: outside the timer
        installed = regions_applied([unet], layout) if fn is regions else contextlib.nullcontext()
        with installed, torch.inference_mode():
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start

    for round_index in range(rounds + 1):
        order = list(variants) if round_index % 2 == 0 else list(reversed(variants))
        for name in order:
            seconds = in_thread(lambda fn=variants[name]: timed(fn))  # on a thread, as the app's worker
            if round_index:  # round 0 warms oneDNN's kernels for each shape
                times[name].append(seconds)
    return {"times_s": times, "params_unet": sum(p.numel() for p in unet.parameters()),
            "params_controlnet": sum(p.numel() for p in controlnet.parameters()), "flops": count_flops(config, size)}


def figures_from(r: dict, scale_words: str) -> dict:
    t = r["times_s"]
    plain = median(t["plain"])
    samples = ", ".join(f"{name} {', '.join(f'{s:.2f}' for s in values)} s" for name, values in t.items())
    how = (f"{scale_words}; one guided step (batch 2) per call, median of {len(t['plain'])} alternating rounds "
           f"after a warm-up round: {samples}. UNet {r['params_unet'] / 1e6:.0f} M params, ControlNet "
           f"{r['params_controlnet'] / 1e6:.0f} M")
    flops = r["flops"]
    counted = (f"FLOPs of one guided step counted by torch's FlopCounterMode on the meta device: plain "
               f"{flops['plain'] / 1e12:.3f} T, control {flops['control'] / 1e12:.3f} T, regions "
               f"{flops['regions'] / 1e12:.3f} T; the time ratios above are what this machine did with them")
    return {
        "control_flops_ratio": Figure(flops["control"] / flops["plain"], unit="x", target="reference", how=counted),
        "regions_flops_ratio": Figure(flops["regions"] / flops["plain"], unit="x", target="reference", how=counted),
        "control_step_ratio": at_most(median(t["control"]) / plain, 1.5, unit="x", samples=t["control"],
                                      how="(ControlNet + UNet with its residuals) / plain UNet step. " + how),
        "regions_step_ratio": at_most(median(t["regions"]) / plain, 1.2, unit="x", samples=t["regions"],
                                      how="UNet with regional cross-attention, 231 tokens / plain UNet step, 77 "
                                          "tokens. " + how),
    }


def run(ctx: Context) -> dict:
    if ctx.quick:
        r = child("tiny", 64, max(1, ctx.repeats))
        figures = figures_from(r, "tiny UNet at 64 px (quick mode: Python overhead dominates such a small step; "
                                  "the full mode measures the SD 1.5-size UNet)")
        for figure in figures.values():
            figure.met = None  # not the size the targets are about
        return figures
    r = run_child("steering", ["sd15", "512", str(min(ctx.repeats, 3))], timeout=3600)
    return figures_from(r, "SD 1.5-size UNet and ControlNet (published config, random weights), 512 px, CPU, "
                           "channels_last")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("scale", choices=("sd15", "tiny"))
    parser.add_argument("size", type=int)
    parser.add_argument("rounds", type=int)
    a = parser.parse_args()
    report_child(child(a.scale, a.size, a.rounds))
