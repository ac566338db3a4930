"""Final decode at 512 px: the SD 1.5 VAE against TAESD (the "fast decode" option), real sizes.

Both are built from their published configs with random weights (AutoencoderTiny's defaults are
TAESD's); one 64x64 latent is decoded to 512x512 on a thread, best of 2, in a fresh process.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, in_thread, missing, report_child, run_child

KEYS = ("decode_vae_s_512", "decode_taesd_s_512")


def child(size: int) -> dict:
    import torch
    from diffusers import AutoencoderKL, AutoencoderTiny

    from benchmarks.real_models import SD15_VAE
    from desktop.engine.cpu_tuning import apply_memory_format

    latents = torch.randn(1, 4, size // 8, size // 8)
    out = {}
    for name, model in (("vae", AutoencoderKL(**SD15_VAE).eval()), ("taesd", AutoencoderTiny().eval())):
        for layout in ("contiguous", "channels_last"):
            apply_memory_format(model, layout == "channels_last")

            def decode():
                start = time.perf_counter()
                with torch.inference_mode():
                    model.decode(latents)
                return time.perf_counter() - start

            out[f"{name}_{layout}"] = min(in_thread(decode) for _ in range(2))
    return out


def run(ctx: Context) -> dict:
    if ctx.quick:
        return {k: missing("real-size decoders run only in the full mode") for k in KEYS}
    r = run_child("decode", ["512"], timeout=900)
    vae, taesd = min(r["vae_contiguous"], r["vae_channels_last"]), min(r["taesd_contiguous"], r["taesd_channels_last"])
    how = ", ".join(f"{k} {v:.2f} s" for k, v in r.items())
    unet = ctx.shared.get("unet_step_s_512_default")
    per_unet = f"; the VAE decode costs {vae / unet:.2f} guided UNet steps" if unet else ""
    return {
        "decode_vae_s_512": Figure(vae, unit="s", target="report", samples=list(r.values()),
                                   how=f"SD 1.5 VAE decode of one 64x64 latent (best of 2, fastest layout): {how}{per_unet}"),
        "decode_taesd_s_512": Figure(taesd, unit="s", target="report",
                                     how=f"TAESD decode, same latent: {vae / taesd:.1f}x faster than the VAE"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("size", type=int)
    report_child(child(parser.parse_args().size))
