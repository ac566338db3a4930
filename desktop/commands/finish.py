"""`main.py finish DRAFT.png [--out FINAL.png]`: a Fast mode draft decoded with its model's full VAE, headless.

The draft's latents (kept beside it by `generate --fast` and the app, desktop/core/draft.py) go through
the model's own VAE; no step runs again. The final records the draft it came from.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAME = "finish"
HELP = "decode a Fast mode (TAESD) draft with its model's full VAE, from the latents saved beside it"


def add_arguments(parser) -> None:
    parser.add_argument("draft", help="the draft PNG (its .latents.safetensors lies beside it)")
    parser.add_argument("--out", default="", help="where to write the final PNG (default: DRAFT-final.png beside it)")


def _fail(message: str, code: int = 2) -> int:
    print(f"atelier finish: {message}", file=sys.stderr)
    return code


def run(args) -> int:
    from desktop.commands.arguments import png_out_problem
    from desktop.core.draft import DraftError, finishable, finished_params, finished_record, latents_path

    draft = Path(args.draft)
    out = Path(args.out) if args.out else draft.with_name(draft.stem + "-final.png")
    problem = png_out_problem(out, args.out)
    if problem:
        return _fail(problem)
    if out.resolve() == draft.resolve():
        return _fail("--out must not be the draft itself: the draft and its latents are kept")
    try:
        info = finishable(draft)
    except DraftError as error:
        return _fail(str(error))
    from desktop.engine.draft_latents import decode_full, load_latents
    from desktop.engine.pipeline import ImageEngine, ModelLoadError

    try:
        latents = load_latents(latents_path(draft))
    except DraftError as error:
        return _fail(str(error))
    engine = ImageEngine()
    print(f"Loading {info.model_name} ({info.family})…", file=sys.stderr)
    try:
        engine.load(info.model_path, info.family, info.params.width, info.params.height)
        start = time.perf_counter()
        image, note = decode_full(engine.base_pipe, latents, on_progress=lambda done, total: print(
            f"decoding {done}/{total}", file=sys.stderr, flush=True))
    except (ModelLoadError, DraftError) as error:
        return _fail(str(error), 1)
    if note:
        print(note, file=sys.stderr)
    seconds = time.perf_counter() - start
    from desktop.core.outputs import save_generation

    try:
        path = save_generation(image, finished_params(info.params, draft.name), out.parent, model_name=info.model_name,
                               seconds=seconds, extra=finished_record(info, draft.name), path=out)
    except OSError as error:
        return _fail(f"could not write {out}: {error.strerror or error}", 1)
    print(f"Wrote {path} (full VAE decode of {draft.name}, {seconds:.1f} s)")
    return 0
