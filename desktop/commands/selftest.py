"""`atelier --selftest` / `main.py selftest`: prove that this installation, source or bundle, works.

Touches every library class the app can use (a frozen bundle fails only when a lazy import is
first touched), builds tiny real models in a scratch folder, opens the real window (offscreen
when there is no display), generates through the real worker lane, replies once in chat, and
prints `SELFTEST OK`, or each failure with the module or class that could not load. Exit 0 or 1.
The user's own settings, models and outputs are never read or written: everything lives in the
scratch folder, which is removed afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

NAME = "selftest"
HELP = "check this installation: libraries, tiny models, the window, one image and one chat reply"


def add_arguments(parser) -> None:
    parser.add_argument("--keep", metavar="FOLDER",
                        help="work in this folder and keep it (tiny models, outputs) instead of a temporary one")


class Report:
    """Runs named checks one after another, prints a line for each, and remembers what failed."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stdout
        self.failures: list[str] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def check(self, name: str, function, *args):
        """The function's result, or None when it raised (then the failure is recorded)."""
        start = time.perf_counter()
        try:
            result = function(*args)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # a broken bundle raises anything from anywhere
            detail = " ".join((str(error).strip() or type(error).__name__).split())[:500]
            if not isinstance(error, (ImportError, AssertionError, LookupError, TimeoutError)):
                detail = f"{type(error).__name__}: {detail}"
            where = _raised_in(error)
            if where and where not in name:
                detail += f" (raised in {where})"
            self.failures.append(f"{name}: {detail}")
            self.say(f"FAIL  {name}: {detail}")
            if os.environ.get("ATELIER_SELFTEST_TRACEBACK"):
                traceback.print_exc(file=self.out)
            return None
        seconds = time.perf_counter() - start
        summary = result if isinstance(result, str) else ""
        self.say(f"ok    {name}{f': {summary}' if summary else ''} ({seconds:.1f} s)")
        return True if result is None else result

    def skip(self, name: str, why: str) -> None:
        self.say(f"skip  {name}: {why}")


def _prepare_environment(scratch: Path) -> None:
    """Offline, headless when there is no display, and nothing of the user's touched."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["ATELIER_HOME"] = str(scratch / "home")
    os.environ["HF_HUB_CACHE"] = str(scratch / "hf-cache")
    # Libraries write caches and logs of their own on import: huggingface's xet client a log file under
    # HF_HOME (~/.cache/huggingface/xet/logs), torch an inductor folder in the temp folder, Qt and
    # fontconfig under XDG_CACHE_HOME. All of it goes into the scratch folder, and leaves with it.
    for variable, folder in (("HF_HOME", "hf-home"), ("HF_XET_CACHE", "hf-home/xet"), ("XDG_CACHE_HOME", "cache"),
                             ("TORCHINDUCTOR_CACHE_DIR", "torchinductor"), ("TRITON_CACHE_DIR", "triton"),
                             ("TMPDIR", "tmp")):
        (scratch / folder).mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(scratch / folder)
    tempfile.tempdir = None  # asked again: TMPDIR now points into the scratch folder


def _library_checks(report: Report, scratch: Path) -> None:
    from desktop.commands import selftest_checks as checks

    report.check("torch", checks.check_torch)
    for module, names in checks.SUPPORT_MODULES:
        report.check(module, checks.touch, module, names)
    report.check("diffusers pipelines and models", checks.touch, "diffusers", checks.DIFFUSERS_CLASSES)
    report.check("transformers text encoders and tokenizers", checks.touch, "transformers", checks.TRANSFORMERS_CLASSES)
    report.check("transformers chat architectures", checks.touch, "transformers", checks.CHAT_ARCHITECTURES)
    report.check("samplers", checks.check_schedulers)
    report.check("safetensors", checks.check_safetensors, scratch)
    report.check("image codecs", checks.check_image_codecs)
    report.check("sqlite3", checks.check_sqlite_fts5)
    report.check("Atelier modules", checks.check_desktop_modules)
    report.check("resources", checks.check_resources)


def _build_models(report: Report, folder: Path) -> dict[str, Path]:
    from desktop.engine import tiny_models  # torch: a broken torch fails here, and was reported above

    built = {}
    for key, build in (("sd15", tiny_models.build_sd15), ("sdxl", tiny_models.build_sdxl),
                       ("taesd", tiny_models.build_taesd), ("chat", tiny_models.build_chat_lm)):
        if report.check(f"tiny {key} model built", build, folder / f"tiny-{key}") is not None:
            built[key] = folder / f"tiny-{key}"
    return built


def _quiet_engine() -> str:
    from desktop.engine.pipeline import quiet_libraries

    quiet_libraries()  # progress bars and warnings belong in a terminal session, not in this report
    return "loads"


def _raised_in(error: BaseException) -> str:
    """The module whose code raised: for a broken bundle, the library that lost a piece."""
    name, trace = "", error.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_globals.get("__name__", name)
        trace = trace.tb_next
    return "" if name.startswith(("importlib", "desktop.commands")) else name


def _check_single_file(model: Path, scratch: Path) -> str:
    """A checkpoint in the A1111 key layout, read back through diffusers' single-file loader."""
    from diffusers import StableDiffusionPipeline

    from desktop.engine.ldm_layout import save_ldm_checkpoint
    from desktop.engine.single_file import load_single_file

    source = StableDiffusionPipeline.from_pretrained(model, local_files_only=True)
    path = save_ldm_checkpoint(source, scratch / "tiny-sd15-ldm.safetensors")
    pipe = load_single_file(path, config=model)
    if pipe.unet.config.block_out_channels != source.unet.config.block_out_channels:
        raise AssertionError("the single-file checkpoint loaded with another architecture")
    return "LDM-layout .safetensors loaded"


def _check_taesd(model: Path) -> str:
    import torch
    from diffusers import AutoencoderTiny

    vae = AutoencoderTiny.from_pretrained(model, local_files_only=True)
    with torch.inference_mode():
        pixels = vae.decode(torch.zeros(1, 4, 8, 8)).sample
    if tuple(pixels.shape) != (1, 3, 64, 64):
        raise AssertionError(f"TAESD decoded to {tuple(pixels.shape)}")
    return "decodes 8x8 latents to 64x64"


def _app_checks(report: Report, models: dict[str, Path]) -> None:
    from desktop.commands import selftest_app as app_checks
    from desktop.commands.selftest_checks import resources_folder
    from desktop.core.models import SD1, SDXL

    if report.check("Qt", app_checks.check_qt, resources_folder()) is None:
        return
    session = report.check("window opens", app_checks.AppSession, Path(os.environ["ATELIER_HOME"]))
    if session is None:
        return
    try:
        report.check("first-run welcome", session.welcome_on_first_run)
        if "sd15" in models:
            report.check("generate through the window", session.add_model_and_generate, models["sd15"])
            sd15 = session.paths.models_dir / models["sd15"].name
            report.check("img2img", session.generate, sd15, SD1, "img2img")
            report.check("inpaint", session.generate, sd15, SD1, "inpaint")
        if "sdxl" in models:
            report.check("SDXL", session.generate, models["sdxl"], SDXL)
        if importlib.util.find_spec("desktop.engine.chat") is None:
            report.skip("chat", "not built")
        elif "chat" in models:
            report.check("chat reply", session.chat_reply, models["chat"])
    finally:
        session.close()


def _platform_notes(report: Report) -> None:
    """A bundle must carry Qt's window plugin; missing system libraries are a note (headless is fine)."""
    from desktop import platform_check

    if not sys.platform.startswith("linux"):
        return
    qt = platform_check.qt_folder()

    def bundle_has_window_plugin() -> str:
        plugin = (qt / "plugins" / "platforms" / "libqxcb.so") if qt else None
        if plugin is None or not plugin.exists():
            raise FileNotFoundError(f"Qt's X11 window plugin is missing ({plugin}): reinstall Atelier")
        return "X11 plugin present"

    if report.check("Qt platform plugin", bundle_has_window_plugin) is None:
        return
    missing = platform_check.missing_libraries(platform_check.qt_files(qt, xcb=True), [qt / "lib",
                                               Path(getattr(sys, "_MEIPASS", qt / "lib"))])
    if missing:
        report.say("note  the window (not this test) needs system libraries this machine lacks:")
        report.say(platform_check.describe_missing(missing))


def run(args) -> int:
    from desktop import __version__

    keep = getattr(args, "keep", None)
    scratch = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="atelier-selftest-"))
    scratch.mkdir(parents=True, exist_ok=True)
    _prepare_environment(scratch)
    report = Report()
    kind = "bundle" if getattr(sys, "frozen", False) else "source"
    report.say(f"Atelier {__version__} self-test ({kind}, Python {platform.python_version()}, "
               f"{platform.system()} {platform.machine()}), working in {scratch}")
    start = time.perf_counter()
    try:
        report.check("image engine (desktop.engine.pipeline)", _quiet_engine)
        _library_checks(report, scratch)
        try:
            models = _build_models(report, scratch / "models")
        except Exception as error:  # torch itself broken (ImportError, or RuntimeError from its init)
            report.skip("tiny models", f"the engine cannot load ({' '.join(str(error).split())[:200]})")
            models = {}
        if "sd15" in models:
            report.check("single-file checkpoint", _check_single_file, models["sd15"], scratch)
        if "taesd" in models:
            report.check("TAESD", _check_taesd, models["taesd"])
        _app_checks(report, models)
        _platform_notes(report)
    except Exception as error:  # a damaged installation can raise anything, anywhere: report, never crash
        detail = " ".join(f"{type(error).__name__}: {error}".split())[:500]
        report.failures.append(f"self-test stopped: {detail}")
        report.say(f"FAIL  self-test stopped: {detail}")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - start
    if report.failures:
        report.say(f"SELFTEST FAILED ({len(report.failures)} problems, {seconds:.0f} s):")
        for failure in report.failures:
            report.say(f"  - {failure}")
        return 1
    report.say(f"SELFTEST OK ({seconds:.0f} s)")
    return 0
