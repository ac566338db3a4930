"""`main.py generate`: make one image headless, with progress, the same metadata the app writes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAME = "generate"
HELP = "generate an image from a prompt without opening the window"


def add_arguments(parser) -> None:
    from desktop.commands.arguments import scheduler_name, utf8_text
    from desktop.core.params import SCHEDULERS

    parser.add_argument("--model", required=True, help="model folder, or the name of a model Atelier knows")
    parser.add_argument("--prompt", required=True, type=utf8_text, help="what to draw (may be empty: '')")
    parser.add_argument("--negative", default="", type=utf8_text, help="what to avoid")
    parser.add_argument("--width", default="512")
    parser.add_argument("--height", default="512")
    parser.add_argument("--steps", default="20")
    parser.add_argument("--guidance", default="7.0")
    parser.add_argument("--seed", default=None, help="whole number; random when left out")
    parser.add_argument("--scheduler", default="Euler a", type=scheduler_name,
                        help=f"one of: {', '.join(SCHEDULERS)} (any case)")
    parser.add_argument("--lora", action="append", default=[], metavar="NAME[:WEIGHT]",
                        help="apply a LoRA Atelier knows (repeatable); <lora:NAME:WEIGHT> in the prompt works too")
    parser.add_argument("--vae", default="", help="a VAE or TAESD Atelier knows, instead of the model's own")
    parser.add_argument("--hires", default="", metavar="SCALE[:STRENGTH[:UPSCALER]]",
                        help="hires fix: generate at --width x --height, upscale by SCALE (Latent, Lanczos or an "
                             "upscaler's name), then img2img at STRENGTH (default 0.5), e.g. --hires 2:0.5:Latent")
    parser.add_argument("--control", action="append", default=[], metavar="TYPE:IMAGE[:MODEL[:WEIGHT[:START:END]]]",
                        help="steer with a ControlNet (repeatable); TYPE: " + ", ".join(_control_types())
                        + "; the image must have the output's size")
    parser.add_argument("--control-as-is", action="store_true",
                        help="the --control images already are the maps (edges, depth, pose): no preprocessing")
    parser.add_argument("--reference", action="append", default=[], metavar="IMAGE:MODEL[:WEIGHT]",
                        help="a reference image through an IP-Adapter (repeatable)")
    parser.add_argument("--region", action="append", default=[], metavar="MASK_IMAGE:PROMPT",
                        help="a prompt for the white area of a mask of the output's size (repeatable)")
    parser.add_argument("--out", required=True, help="where to write the PNG")
    parser.add_argument("--fast", action="store_true",
                        help="Fast mode: the few-step recipe for this model, its LoRAs and TAESD (says what it chose)")
    from desktop.commands import generate_comfyui

    generate_comfyui.add_arguments(parser)


def _control_types() -> tuple[str, ...]:
    from desktop.core.control_types import type_names

    return type_names()


def _fail(message: str, code: int = 2) -> int:
    print(f"atelier generate: {message}", file=sys.stderr)
    return code


def parse_lora(text: str) -> tuple[str, float]:
    """`ink` or `ink:0.8` -> (name, weight); ParamError says how to write it."""
    from desktop.core.params import ParamError

    name, _, weight = text.rpartition(":") if ":" in text else (text, "", "1")
    try:
        value = float(weight)
    except ValueError:
        raise ParamError(f"--lora {text!r}: write NAME or NAME:WEIGHT, e.g. --lora ink:0.8") from None
    if not name.strip():
        raise ParamError(f"--lora {text!r}: the LoRA's name is missing")
    return name.strip(), value


def run(args) -> int:
    from desktop.commands.arguments import png_out_problem
    from desktop.core.models import IMAGE_KINDS, discover_models, resolve_model
    from desktop.core.params import GenerationParams, ParamError, parse_number, random_seed
    from desktop.core.paths import AppPaths, hf_cache_dir
    from desktop.core.settings import Settings

    out = Path(args.out)
    problem = png_out_problem(out, args.out)
    if problem:
        return _fail(problem)
    try:
        params = GenerationParams(
            prompt=args.prompt, negative_prompt=args.negative, model=args.model,
            width=parse_number("width", args.width), height=parse_number("height", args.height),
            steps=parse_number("steps", args.steps), guidance=parse_number("guidance", args.guidance, float),
            scheduler=args.scheduler,
            seed=random_seed() if args.seed is None else parse_number("seed", args.seed),
            loras=tuple(parse_lora(text) for text in args.lora), vae=args.vae,
            fast_mode=bool(getattr(args, "fast", False)),
        )
        if args.hires:
            from desktop.commands.upscale import hires_params

            params = hires_params(params, args.hires)
    except ParamError as error:
        return _fail(str(error))
    paths = AppPaths.default()
    settings = Settings.load(paths.config_dir / "settings.json")
    folders = [Path(settings.models_dir) if settings.models_dir else paths.models_dir]
    folders += [Path(p) for p in settings.extra_model_dirs]
    if args.comfyui is not None:  # depth/pose models for control pictures are this computer's
        from desktop.commands import generate_comfyui

        return generate_comfyui.run(args, params, out, _fail, _signing_folder(settings, paths),
                                    lambda: discover_models(folders, hf_cache_dir()))
    entries = discover_models(folders, hf_cache_dir())
    try:
        entry = resolve_model(args.model, entries)
    except LookupError as error:
        return _fail(str(error))
    if entry.kind not in IMAGE_KINDS:
        return _fail(f"{entry.name} is a {entry.kind}, not an image model")
    if entry.problem:
        return _fail(entry.problem)
    params = params.replace(model=entry.name)
    if params.hires_scale:  # a hires upscaler that is not there: say so before the slow model load
        from desktop.commands.upscale import missing_hires_upscaler

        problem = missing_hires_upscaler(params.hires_upscaler)
        if problem:
            return _fail(problem)
    from desktop.commands.steering_args import SteeringArgError, parse_steering

    try:
        params, images = parse_steering(args, params, entries, entry.family)
    except SteeringArgError as error:
        return _fail(str(error))
    return _generate(entry, params, out, entries, _signing_folder(settings, paths), images)


def _signing_folder(settings, paths) -> Path | None:
    """Settings.write_c2pa holds here as in the window; when it cannot work, say so once and save unsigned."""
    from desktop.core.metadata.provenance import signing_folder, unavailable_reason

    if settings.write_c2pa and unavailable_reason():
        print(f"atelier generate: note: the image is saved unsigned: {unavailable_reason()}", file=sys.stderr)
    return signing_folder(settings.write_c2pa, paths.config_dir)


def _generate(entry, params, out: Path, entries=(), c2pa_key_dir: Path | None = None, images=((), (), ())) -> int:
    from desktop.core.outputs import save_generation
    from desktop.engine.addons import resolve_addons
    from desktop.engine.pipeline import ImageEngine, ModelLoadError
    from desktop.engine.steering import steering_inputs

    engine = ImageEngine()
    if params.fast_mode:
        from desktop.core.fast_mode import choose

        choice = choose(params, entry.path, entry.family, entries, engine.device)
        print(choice.sentence, file=sys.stderr)
        params = choice.params
    try:
        addons = resolve_addons(params, entries)  # a LoRA or VAE name that is not there: before the slow load
    except ValueError as error:
        return _fail(str(error))
    print(f"Loading {entry.name} ({entry.family})…", file=sys.stderr)
    try:
        loaded = engine.load(entry.path, entry.family, params.width, params.height)
    except ModelLoadError as error:
        return _fail(str(error), 1)
    print(f"Loaded on {loaded.placement} in {loaded.seconds:.1f} s: {loaded.reason}", file=sys.stderr)
    start = time.perf_counter()
    upscalers: list = []  # the hires fix's upscaler, for its name and hash in the metadata

    def on_progress(step: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        left = elapsed / step * (total - step)
        print(f"step {step}/{total}  {elapsed:.1f} s elapsed, {left:.1f} s left", file=sys.stderr, flush=True)

    try:
        steering = steering_inputs(*images, models=entries) if any(images) else None
        if params.hires_scale:  # the control, reference and region images steer the first pass
            from desktop.commands.upscale import generate_hires_headless

            images = generate_hires_headless(engine, params, on_progress, addons, upscalers, steering=steering)
        else:
            images = engine.generate(params, on_progress=on_progress, addons=addons,
                                     on_status=lambda text: print(text, file=sys.stderr), steering=steering)
    except ValueError as error:  # a LoRA made for another family, or one that matches no layer
        return _fail(str(error))
    seconds = time.perf_counter() - start
    recorded, record_extra = addons.recorded, {}
    if upscalers:
        from desktop.core.hires_record import with_upscaler

        recorded, record_extra = with_upscaler(recorded, params.hires_upscaler, upscalers[0].sha256)
    try:
        path = save_generation(images[0], recorded, out.parent, model_name=entry.name, seconds=seconds,
                               path=out, c2pa_key_dir=c2pa_key_dir, extra=record_extra)
    except OSError as error:
        return _fail(f"could not write {out}: {error.strerror or error}", 1)
    if engine.draft_latents is not None:  # a TAESD draft: its latents beside it, for `main.py finish`
        from desktop.engine.draft_latents import keep_draft_latents

        problem = keep_draft_latents(engine, images[:1], 0, str(path), recorded)
        print(problem or f"Kept its latents: `finish {path}` decodes it with the full VAE", file=sys.stderr)
    print(f"Wrote {path} (seed {params.seed}, {seconds:.1f} s)")
    return 0
