"""`main.py upscale`: a picture 2x/3x/4x larger with a built-in Real-ESRGAN model or the artist's own.

Also the headless side of the hires fix (`generate --hires SCALE[:STRENGTH[:UPSCALER]]`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAME = "upscale"
HELP = "upscale a picture with Real-ESRGAN (built in) or your own upscaler, in tiles"


def add_arguments(parser) -> None:
    from desktop.core.upscalers import DEFAULT_TILE, DEFAULT_UPSCALER

    parser.add_argument("input", metavar="IN", help="the picture to upscale (PNG, JPEG, WebP)")
    parser.add_argument("--model", default=DEFAULT_UPSCALER,
                        help="a built-in (realesrgan-x4plus, realesrgan-x4plus-anime, realesr-animevideov3), the "
                             "name of a file in models/upscale_models or models/ESRGAN, or a path")
    parser.add_argument("--scale", default="4", help="2, 3 or 4")
    parser.add_argument("--tile", default=str(DEFAULT_TILE), help="tile side in input pixels (memory: bigger = more)")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="allow this one .pth/.pt upscaler (read with torch.load(weights_only=True) only)")
    parser.add_argument("--refine-model", default="", metavar="MODEL",
                        help="then refine in overlapping tiles with img2img using this image model (4K within memory)")
    parser.add_argument("--prompt", default="", help="the refine's prompt")
    parser.add_argument("--negative", default="", help="the refine's negative prompt")
    parser.add_argument("--strength", default="0.3", help="how much the refine may change each tile (0-1)")
    parser.add_argument("--steps", default="20", help="the refine's steps (it runs steps x strength per tile)")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--refine-tile", default="512", help="refine tile side (the model's native size)")
    parser.add_argument("--out", required=True, help="where to write the PNG")


def _fail(message: str, code: int = 2) -> int:
    print(f"atelier upscale: {message}", file=sys.stderr)
    return code


def model_folders() -> tuple[list[Path], Path, Path]:
    """(models folders, cache folder, config folder) as the app sees them."""
    from desktop.core.paths import AppPaths
    from desktop.core.settings import Settings

    paths = AppPaths.default()
    settings = Settings.load(paths.config_dir / "settings.json")
    folders = [Path(settings.models_dir) if settings.models_dir else paths.models_dir]
    folders += [Path(p) for p in settings.extra_model_dirs]
    return folders, paths.cache_dir, paths.config_dir


def trust_list(config_dir: Path):
    from desktop.core.pickle_files import TrustList

    return TrustList(Path(config_dir) / "trusted_pickles.json")  # the file the Models window uses


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args) -> int:
    from desktop.commands.arguments import png_out_problem
    from PIL import Image, UnidentifiedImageError

    from desktop.core.atomic import write_bytes_atomic
    from desktop.core.metadata.image_text import read_image_text
    from desktop.core.metadata.postprocess import UpscaleRecord, upscaled_png
    from desktop.core.upscalers import DEFAULT_OVERLAP, UpscaleError, check_scale, check_tile

    out = Path(args.out)
    problem = png_out_problem(out, args.out)
    if problem:
        return _fail(problem)
    try:
        scale, tile = check_scale(args.scale), check_tile(args.tile)
    except UpscaleError as error:
        return _fail(str(error))
    try:
        with Image.open(args.input) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError) as error:
        return _fail(f"cannot read {args.input}: {getattr(error, 'strerror', None) or error}")
    folders, cache_dir, config_dir = model_folders()
    problem = _upscaler_problem(args.model, folders, config_dir, args.trust_pickle)
    if problem:  # before torch is imported: a wrong name or a refused pickle is said in a moment
        return _fail(problem)
    refine = None
    if args.refine_model:
        try:
            refine = _refine_plan(args, folders)
        except (LookupError, ValueError) as error:
            return _fail(str(error))
    from desktop.engine.tiling import tile_grid
    from desktop.engine.upscaler import load_upscaler, resolve_file, upscale_image

    trust = trust_list(config_dir)
    try:
        if args.trust_pickle:
            path = resolve_file(args.model, folders)
            if path is not None:
                trust.trust(path)
        upscaler = load_upscaler(args.model, folders, cache_dir, trust=trust, say=say)
    except UpscaleError as error:
        return _fail(str(error))
    say(f"{upscaler.name} ({upscaler.architecture}, {upscaler.scale}x) on {image.width}x{image.height}")
    start = time.perf_counter()

    def on_tile(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        say(f"tile {done}/{total}  {elapsed:.1f} s elapsed, {elapsed / done * (total - done):.1f} s left")

    refine_record = None
    if refine is None:
        result = upscale_image(image, upscaler, scale, tile=tile, overlap=DEFAULT_OVERLAP, on_tile=on_tile)
    else:
        result, refine_record = _upscale_and_refine(image, upscaler, scale, tile, refine, on_tile)
    seconds = time.perf_counter() - start
    record = UpscaleRecord(upscaler.name, upscaler.sha256, upscaler.architecture, scale, upscaler.scale, tile,
                           DEFAULT_OVERLAP, len(tile_grid(image.width, image.height, tile, DEFAULT_OVERLAP)),
                           (image.width, image.height), round(seconds, 3), refine_record)
    source = dict(read_image_text(args.input).fields)
    try:
        write_bytes_atomic(out, upscaled_png(result, record, source))
    except OSError as error:
        return _fail(f"could not write {out}: {error.strerror or error}", 1)
    print(f"Wrote {out} ({result.width}x{result.height}, {record.tiles} tiles, {seconds:.1f} s)")
    return 0


def _upscaler_problem(name: str, folders, config_dir, trust_pickle: bool) -> str:
    from desktop.core.pickle_files import PICKLE_SUFFIXES, looks_like_pickle, refusal_message
    from desktop.core.upscalers import builtin, find_upscaler_file, upscaler_names

    if builtin(name):
        return ""
    path = find_upscaler_file(name, folders)
    if path is None:
        return (f"no upscaler named {name!r}; known: {', '.join(upscaler_names(folders))} (put your own in "
                "models/upscale_models or models/ESRGAN)")
    is_pickle = path.suffix.lower() in PICKLE_SUFFIXES or looks_like_pickle(path)
    if is_pickle and not trust_pickle and not trust_list(config_dir).is_trusted(path):
        return refusal_message(path) + " Or pass --trust-pickle for this one file."
    return ""


def _refine_plan(args, folders):
    """(model entry, img2img params, refine tile) for --refine-model; LookupError/ParamError say what is wrong."""
    from desktop.core.models import IMAGE_KINDS, discover_models, resolve_model
    from desktop.core.params import GenerationParams, parse_number
    from desktop.core.paths import hf_cache_dir
    from desktop.core.upscalers import check_tile

    entry = resolve_model(args.refine_model, discover_models(folders, hf_cache_dir()))
    if entry.kind not in IMAGE_KINDS or entry.problem:
        raise LookupError(entry.problem or f"{entry.name} is a {entry.kind}, not an image model")
    refine_tile = check_tile(args.refine_tile) // 8 * 8
    params = GenerationParams(prompt=args.prompt, negative_prompt=args.negative, model=entry.name, mode="img2img",
                              strength=parse_number("strength", args.strength, float),
                              steps=parse_number("steps", args.steps), seed=parse_number("seed", args.seed),
                              width=refine_tile, height=refine_tile)
    return entry, params, refine_tile


def _upscale_and_refine(image, upscaler, scale, tile, refine, on_tile):
    from desktop.engine.pipeline import ImageEngine
    from desktop.engine.refine import upscale_and_refine
    from desktop.engine.tiling import tile_grid

    entry, params, refine_tile = refine
    engine = ImageEngine()
    say(f"Loading {entry.name} ({entry.family}) for the tiled refine…")
    engine.load(entry.path, entry.family, refine_tile, refine_tile)
    result = upscale_and_refine(engine, upscaler, image, scale, params, tile=tile, refine_tile=refine_tile,
                                on_progress=on_tile)
    tiles = len(tile_grid(result.width // 8 * 8, result.height // 8 * 8, refine_tile, 64))
    return result, {"model": entry.name, "prompt": params.prompt, "strength": params.strength, "steps": params.steps,
                    "seed": params.seed, "tile": refine_tile, "tiles": tiles}


# ------------------------------------------------------------------ hires fix, headless
def hires_params(params, text: str):
    """GenerationParams with the hires fields from `--hires SCALE[:STRENGTH[:UPSCALER]]`; ParamError if wrong."""
    from desktop.core.params import ParamError
    from desktop.core.upscalers import UpscaleError, parse_hires

    try:
        spec = parse_hires(text)
    except UpscaleError as error:
        raise ParamError(str(error)) from None
    return params.replace(hires_scale=spec.scale, hires_strength=spec.strength, hires_upscaler=spec.upscaler)


def missing_hires_upscaler(name: str) -> str:
    from desktop.core.upscalers import known_upscaler, upscaler_names

    folders = model_folders()[0]
    if known_upscaler(name, folders):
        return ""
    return (f"no upscaler named {name!r} for --hires; known: Latent, Lanczos, "
            f"{', '.join(upscaler_names(folders))}")


def generate_hires_headless(engine, params, on_progress, addons, loaded: list | None = None, steering=None) -> list:
    """The hires fix's images; the upscaler it ran (if any) is appended to `loaded`, for the metadata."""
    from desktop.engine.hires import generate_hires
    from desktop.engine.upscaler import load_upscaler

    folders, cache_dir, config_dir = model_folders()

    def load(name: str):
        upscaler = load_upscaler(name, folders, cache_dir, trust=trust_list(config_dir), say=say)
        if loaded is not None:
            loaded.append(upscaler)
        return upscaler

    return generate_hires(engine, params, load_upscaler=load, on_progress=on_progress, addons=addons, on_status=say,
                          steering=steering)
