"""`main.py generate --comfyui URL --model CHECKPOINT …`: the same job on a ComfyUI server, saved the same way.

The token, when the server needs one, comes from an environment variable (ATELIER_COMFYUI_TOKEN, or the
one --token-env names), never from the command line, where other users could read it in the process list.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

TOKEN_ENV = "ATELIER_COMFYUI_TOKEN"


def add_arguments(parser) -> None:
    parser.add_argument("--comfyui", metavar="URL", default=None,
                        help="run on this ComfyUI server (e.g. http://192.168.1.20:8188); --model is then the "
                             "checkpoint's name there")
    parser.add_argument("--token-env", metavar="VAR", default=TOKEN_ENV,
                        help=f"environment variable holding the server's Bearer token (default {TOKEN_ENV})")


def run(args, params, out: Path, fail, c2pa_key_dir: Path | None = None, local_models=lambda: ()) -> int:
    """`local_models()`: the models of this computer (depth/pose models make control pictures here)."""
    from desktop.core.outputs import save_generation
    from desktop.core.server_address import AddressError, ServerAddress
    from desktop.remote.comfyui_connection import ComfyUIConnection, NotOnServer, ServerError
    from desktop.remote.comfyui_generate import generate
    from desktop.remote.comfyui_job import JobEvents

    if getattr(args, "fast", False):
        return fail("--fast picks a few-step recipe for a model on this computer: leave it out with --comfyui")
    if not args.comfyui.strip():  # `--comfyui ""`: a script with an empty variable
        return fail("--comfyui needs the server's address, e.g. --comfyui http://192.168.1.20:8188")
    try:
        address = ServerAddress.checked(args.comfyui, os.environ.get(args.token_env, ""))
    except AddressError as error:
        return fail(f"--comfyui: {error}" if "token" not in str(error) else f"${args.token_env}: {error}")
    try:
        params, job, preprocess = _steered_job(args, params, address.url, local_models)
    except ValueError as error:  # a --control/--region/--reference that cannot be used: before the server is asked
        return fail(str(error))
    server = ComfyUIConnection(address)
    start = time.perf_counter()

    def on_progress(step: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        print(f"step {step}/{total}  {elapsed:.1f} s elapsed", file=sys.stderr, flush=True)

    print(f"Sending the job to {server.name}…", file=sys.stderr)
    events = JobEvents(progress=on_progress, status=lambda text: print(text, file=sys.stderr))
    try:
        result = generate(server, job, threading.Event(), events, preprocess=preprocess)
    except NotOnServer as error:  # a checkpoint, LoRA or VAE name the server does not have: bad input
        return fail(str(error))
    except ServerError as error:
        return fail(str(error), 1)
    finally:
        server.close()
    seconds = time.perf_counter() - start
    try:
        path = save_generation(result.images[0], result.params, out.parent, model_name=result.checkpoint,
                               seconds=seconds, path=out, c2pa_key_dir=c2pa_key_dir)
    except OSError as error:
        return fail(f"could not write {out}: {error.strerror or error}", 1)
    print(f"Wrote {path} (seed {params.seed}, {seconds:.1f} s, on {server.name})")
    return 0


def _steered_job(args, params, url: str, local_models):
    """(params, GenerateJob, preprocess) with --control/--region pictures; ValueError for a bad option."""
    from desktop.core.messages import GenerateJob, GrayImage, RgbaImage
    from desktop.core.models import UNKNOWN
    from desktop.remote.comfyui_steering import REFERENCES_REFUSED, needs_local_model

    if not (args.control or args.region or args.reference):
        return params, GenerateJob(params, args.model), None
    if args.reference:
        raise ValueError(f"--reference: {REFERENCES_REFUSED.format(server=url)}")
    from desktop.commands.steering_args import parse_steering

    entries = tuple(local_models())
    params, (controls, _, regions) = parse_steering(args, params, entries, UNKNOWN, on_server=True)
    job = GenerateJob(params, args.model, addons=entries,
                      control_images=tuple(RgbaImage.from_pil(image) for image in controls),
                      region_masks=tuple(GrayImage(mask.width, mask.height, mask.convert("L").tobytes())
                                        for mask in regions))
    preprocess = None
    if needs_local_model(params):
        from desktop.engine.control_images import DepthEstimators, local_preprocessor

        preprocess = local_preprocessor(entries, DepthEstimators())
    return params, job, preprocess
