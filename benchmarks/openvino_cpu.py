"""OpenVINO on the CPU against torch, same UNet weights: one guided step at 512 px, and how far apart they are.

Measured only where the `openvino` package is installed (it is not one of Atelier's dependencies: it
is shipped only if it wins here). The UNet (SD 1.5 size, random weights, or the tiny one in --quick)
is converted from the torch module with openvino.convert_model, compiled for the CPU in fp32
(INFERENCE_PRECISION_HINT f32: the same arithmetic precision as torch) and timed against the app's
torch path (channels_last), alternating, on a thread, in a fresh process. The outputs on the same
inputs are compared (max and mean absolute difference, relative to the output's spread).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, in_thread, median, missing, report_child, run_child

KEYS = ("openvino_step_ratio",)


class _UNetCall:
    """The UNet as a function of (sample, timestep, context) returning a tensor: what convert_model traces."""

    def __new__(cls, unet):
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.unet = unet

            def forward(self, sample, timestep, context):
                return self.unet(sample, timestep, encoder_hidden_states=context, return_dict=False)[0]

        return Wrapped().eval()


def child(model: str, size: int, repeats: int) -> dict:
    import openvino as ov
    import torch
    from diffusers import UNet2DConditionModel

    from desktop.engine.cpu_tuning import apply_memory_format

    unet = UNet2DConditionModel.from_pretrained(f"{model}/unet", local_files_only=True).eval()
    latent = size // 8
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(2, unet.config.in_channels, latent, latent, generator=generator)
    context = torch.randn(2, 77, unet.config.cross_attention_dim, generator=generator)
    timestep = torch.tensor([500.0, 500.0])
    wrapped = _UNetCall(unet)
    start = time.perf_counter()
    with torch.no_grad():
        converted = ov.convert_model(wrapped, example_input=(sample, timestep, context))
    compiled = ov.Core().compile_model(converted, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    convert_s = time.perf_counter() - start
    del converted
    apply_memory_format(unet, True)  # the app's torch path

    def torch_step():
        with torch.inference_mode():
            begin = time.perf_counter()
            out = unet(sample, timestep, encoder_hidden_states=context, return_dict=False)[0]
            return time.perf_counter() - begin, out

    def ov_step():
        request = compiled.create_infer_request()
        begin = time.perf_counter()
        result = request.infer([sample.numpy(), timestep.numpy(), context.numpy()])
        return time.perf_counter() - begin, torch.from_numpy(next(iter(result.values())).copy())

    in_thread(torch_step), in_thread(ov_step)  # warm both
    torch_s, ov_s, outputs = [], [], {}
    for index in range(repeats):
        for name, fn, bucket in ((("torch", torch_step, torch_s), ("ov", ov_step, ov_s)) if index % 2 == 0 else
                                 (("ov", ov_step, ov_s), ("torch", torch_step, torch_s))):
            seconds, out = in_thread(fn)
            bucket.append(seconds)
            outputs[name] = out
    difference = (outputs["torch"] - outputs["ov"]).abs()
    spread = float(outputs["torch"].std())
    return {"torch_s": torch_s, "ov_s": ov_s, "convert_s": convert_s, "max_abs": float(difference.max()),
            "mean_abs": float(difference.mean()), "spread": spread, "openvino": ov.__version__}


def run(ctx: Context) -> dict:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return {k: missing("openvino is not installed (pip install openvino to measure it); not an Atelier dependency")
                for k in KEYS}
    name, size, repeats = ("tiny-sd15", 256, 3) if ctx.quick else ("sd15-size", 512, 2)
    r = run_child("openvino_cpu", [str(ctx.model(name)), str(size), str(repeats)], timeout=3600)
    what = "tiny SD1.5-layout UNet" if ctx.quick else "SD 1.5-size UNet (random weights)"
    ratio = median(r["ov_s"]) / median(r["torch_s"])
    how = (f"median OpenVINO {r['openvino']} step / median torch step (channels_last fp32), one guided UNet call "
           f"(batch 2) at {size} px, {what}, {repeats} alternating rounds on a thread; torch "
           f"{', '.join(f'{s:.2f}' for s in r['torch_s'])} s, OpenVINO {', '.join(f'{s:.2f}' for s in r['ov_s'])} s; "
           f"conversion + compile {r['convert_s']:.1f} s (once per model); same inputs: max |diff| "
           f"{r['max_abs']:.2e}, mean {r['mean_abs']:.2e}, output std {r['spread']:.3f}")
    return {"openvino_step_ratio": Figure(ratio, unit="x", samples=r["torch_s"] + r["ov_s"], how=how,
                                          target="< 1 to ship (OpenVINO faster)", met=None)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("size", type=int)
    parser.add_argument("repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.size, a.repeats))
