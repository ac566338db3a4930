"""Token merging (ToMe for SD) on the CPU: does it pay off for Fast mode's UNet calls at 512 px?

Fast mode runs without CFG (batch 1), so this times one UNet call at batch 1, SD 1.5 size (random
weights, channels_last as the app runs it), with merging off and at ratio 0.5 on the full-resolution
self-attention, alternating, on a thread; and the same for a call that reuses the deep features
(what the feature cache makes of every second Fast mode step), where the full-resolution blocks are
nearly all that is left. The output difference is stated (random weights: not a quality measure).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, in_thread, median, missing, report_child, run_child

KEYS = ("tome_full_step_ratio", "tome_cached_step_ratio")


def child(model: str, size: int, repeats: int) -> dict:
    import torch
    from diffusers import UNet2DConditionModel

    from desktop.engine.cpu_tuning import apply_memory_format
    from desktop.engine.feature_cache import FeatureCache
    from desktop.engine.token_merge import token_merging

    unet = UNet2DConditionModel.from_pretrained(f"{model}/unet", local_files_only=True).eval()
    apply_memory_format(unet, True)

    class Pipe:  # token_merging wraps a pipeline's UNet
        pass

    pipe = Pipe()
    pipe.unet = unet
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(1, 4, size // 8, size // 8, generator=generator)
    context = torch.randn(1, 77, unet.config.cross_attention_dim, generator=generator)
    out: dict = {}
    cache = FeatureCache(unet, 2)
    cache.install()
    for cached in (False, True):
        times: dict = {0.0: [], 0.5: []}
        outputs = {}
        for index in range(repeats + 1):  # the first round warms up, untimed
            for ratio in ((0.0, 0.5) if index % 2 == 0 else (0.5, 0.0)):
                def call(ratio=ratio):
                    with token_merging(pipe, ratio), torch.inference_mode():
                        # calls=1: an odd call reuses the deep features the last full call (calls=0) kept
                        cache.calls = 1 if cached else 0
                        begin = time.perf_counter()
                        result = unet(sample, 500, encoder_hidden_states=context, return_dict=False)[0]
                        return time.perf_counter() - begin, result

                seconds, result = in_thread(call)
                if index:
                    times[ratio].append(seconds)
                outputs[ratio] = result
        name = "cached" if cached else "full"
        out[name] = {"off": times[0.0], "tome": times[0.5],
                     "mean_abs": float((outputs[0.0] - outputs[0.5]).abs().mean()),
                     "spread": float(outputs[0.0].std())}
    cache.remove()
    return out


def run(ctx: Context) -> dict:
    if ctx.quick:
        return {k: missing("real-size UNet calls run only in the full mode") for k in KEYS}
    r = run_child("token_merge", [str(ctx.model("sd15-size")), "512", "2"], timeout=3600)
    figures = {}
    for name, key in (("full", "tome_full_step_ratio"), ("cached", "tome_cached_step_ratio")):
        m = r[name]
        ratio = median(m["tome"]) / median(m["off"])
        figures[key] = Figure(ratio, unit="x", samples=m["off"] + m["tome"], target="< 0.9 to use it in Fast mode",
                              how=f"median UNet call with ToMe ratio 0.5 on full-resolution self-attention / without, "
                              f"SD 1.5 size, 512 px, batch 1 (Fast mode: no CFG), {name} call "
                              f"({'deep features reused' if name == 'cached' else 'every block'}); off "
                              f"{', '.join(f'{s:.2f}' for s in m['off'])} s, ToMe "
                              f"{', '.join(f'{s:.2f}' for s in m['tome'])} s; mean |output diff| {m['mean_abs']:.3f} "
                              f"(output std {m['spread']:.3f}; random weights)")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("size", type=int)
    parser.add_argument("repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.size, a.repeats))
