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


def run(args, params, out: Path, fail, c2pa_key_dir: Path | None = None) -> int:
    from desktop.core.messages import GenerateJob
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
    server = ComfyUIConnection(address)
    start = time.perf_counter()

    def on_progress(step: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        print(f"step {step}/{total}  {elapsed:.1f} s elapsed", file=sys.stderr, flush=True)

    print(f"Sending the job to {server.name}…", file=sys.stderr)
    events = JobEvents(progress=on_progress, status=lambda text: print(text, file=sys.stderr))
    try:
        result = generate(server, GenerateJob(params, args.model), threading.Event(), events)
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
