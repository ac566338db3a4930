"""The self-test's library checks: touch every class, codec and file the app can use, by name.

Libraries import lazily: a class missing from a frozen bundle fails only when first touched, which
for a user is the moment they pick a scheduler or load a Llama. So each check here touches the
thing itself (getattr on the lazy module, a codec round trip, a real SQL statement), and a failure
names the module or class that could not load. No Qt here; no models are built here.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import sqlite3
from pathlib import Path

DIFFUSERS_CLASSES = (
    "DiffusionPipeline", "StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
    "StableDiffusionInpaintPipeline", "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline",
    "StableDiffusionXLInpaintPipeline", "AutoPipelineForText2Image", "AutoPipelineForImage2Image",
    "AutoPipelineForInpainting", "AutoencoderKL", "AutoencoderTiny", "UNet2DConditionModel",
    # steering: ControlNet pipelines (from_pipe picks them), several ControlNets, IP-Adapter parts
    "ControlNetModel", "MultiControlNetModel", "StableDiffusionControlNetPipeline",
    "StableDiffusionControlNetImg2ImgPipeline", "StableDiffusionControlNetInpaintPipeline",
    "StableDiffusionXLControlNetPipeline", "StableDiffusionXLControlNetImg2ImgPipeline",
    "StableDiffusionXLControlNetInpaintPipeline",
)
TRANSFORMERS_CLASSES = (
    "CLIPTextModel", "CLIPTextModelWithProjection", "CLIPTokenizer", "CLIPTokenizerFast",
    "AutoConfig", "AutoModelForCausalLM", "AutoTokenizer", "PreTrainedTokenizerFast",
    "TextIteratorStreamer", "StoppingCriteria", "StoppingCriteriaList",
    "CLIPVisionModelWithProjection", "CLIPImageProcessor", "AutoModelForDepthEstimation", "AutoImageProcessor",
    "VitPoseForPoseEstimation",  # reference images, depth and pose preprocessing
)
# AutoModelForCausalLM imports the architecture's module only when a model of it is loaded: touch
# the families people run locally (LM Studio's and Ollama's usual catalogue) so a bundle that
# lacks one fails here rather than on the user's first chat.
CHAT_ARCHITECTURES = (
    "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM", "LlamaForCausalLM", "MistralForCausalLM",
    "GemmaForCausalLM", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM", "PhiForCausalLM",
    "GraniteForCausalLM", "SmolLM3ForCausalLM", "OlmoForCausalLM", "GPT2LMHeadModel",
)
# (module, attributes): third-party and stdlib pieces the app reaches at some point
SUPPORT_MODULES = (
    ("numpy", ("asarray",)),
    ("PIL.Image", ("open",)),
    ("safetensors.torch", ("save", "load")),
    ("tokenizers", ("Tokenizer",)),
    ("accelerate", ("init_empty_weights",)),
    ("peft", ("LoraConfig",)),
    ("compel", ("Compel",)),
    ("cv2", ("Canny", "GaussianBlur", "Sobel")),  # control layers' preprocessors
    ("huggingface_hub", ("snapshot_download", "hf_hub_download", "HfApi")),
    ("hf_xet", ()),
    ("jinja2", ("Template",)),  # chat templates
    ("regex", ("compile",)),  # CLIP's tokenizer
    ("platformdirs", ("user_data_dir",)),
    ("psutil", ("virtual_memory",)),
    ("send2trash", ("send2trash",)),
    ("certifi", ("where",)),
    ("ssl", ("create_default_context",)),
    ("sqlite3", ("connect",)),
)


def touch(module: str, names=()) -> int:
    """Import a module and read each attribute (which runs lazy imports); the count touched."""
    loaded = importlib.import_module(module)
    for name in names:
        try:
            getattr(loaded, name)
        except Exception as error:  # lazy modules raise RuntimeError/ImportError wrapping the cause
            raise ImportError(f"{module}.{name} could not load: {_first_line(error)}") from error
    return len(names)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    # transformers wraps the real cause in a long "Failed to import ... because of the following error"
    return " ".join(text.split())[:300]


def desktop_modules() -> list[str]:
    """Every module of the app itself, found by walking the package (works inside a bundle)."""
    import desktop

    names = ["desktop"]
    for info in pkgutil.walk_packages(desktop.__path__, "desktop."):
        names.append(info.name)
    return sorted(names)


def check_desktop_modules() -> str:
    names = desktop_modules()
    failed: dict[str, list[str]] = {}  # reason -> modules: one broken library breaks many modules alike
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed.setdefault(_first_line(error), []).append(name)
    if failed:
        raise ImportError("; ".join(f"{', '.join(modules)} could not import ({reason})"
                                    for reason, modules in failed.items()))
    if len(names) < 20:  # a bundle that lost most of the package would otherwise pass quietly
        raise ImportError(f"only {len(names)} Atelier modules found: the installation is incomplete")
    return f"{len(names)} modules"


def check_image_codecs() -> str:
    """PNG (with a text chunk, as outputs carry metadata), JPEG and WebP, written and read back."""
    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", (16, 16), (200, 40, 90))
    for fmt, plugin in (("PNG", "PIL.PngImagePlugin"), ("JPEG", "PIL.JpegImagePlugin"), ("WEBP", "PIL.WebPImagePlugin")):
        buffer = io.BytesIO()
        try:
            extra = {}
            if fmt == "PNG":
                info = PngImagePlugin.PngInfo()
                info.add_text("parameters", "selftest")
                extra["pnginfo"] = info
            image.save(buffer, fmt, **extra)
            buffer.seek(0)
            back = Image.open(buffer)
            back.load()
        except Exception as error:
            raise ImportError(f"{plugin} cannot handle {fmt}: {_first_line(error)}{_codec_cause(fmt)}") from error
        if back.size != (16, 16) or (fmt == "PNG" and back.text.get("parameters") != "selftest"):
            raise ValueError(f"{fmt} round trip gave a different image")
    return "PNG, JPEG, WebP"


def _codec_cause(fmt: str) -> str:
    """Pillow reports a lost codec as a bare KeyError: name the compiled module that is missing."""
    module = {"WEBP": "PIL._webp", "JPEG": "PIL._imaging", "PNG": "PIL._imaging"}[fmt]
    try:
        importlib.import_module(module)
    except ImportError as error:
        return f" ({module} could not load: {_first_line(error)})"
    return ""


def check_sqlite_fts5() -> str:
    """Gallery and chat search need SQLite's FTS5 full-text index."""
    with sqlite3.connect(":memory:") as connection:
        try:
            connection.execute("CREATE VIRTUAL TABLE notes USING fts5(body)")
        except sqlite3.OperationalError as error:
            raise ImportError(f"sqlite3 {sqlite3.sqlite_version} lacks FTS5: {error}") from error
        connection.execute("INSERT INTO notes(body) VALUES ('a lighthouse in a storm')")
        hits = connection.execute("SELECT count(*) FROM notes WHERE notes MATCH 'lighthouse'").fetchone()[0]
    if hits != 1:
        raise ValueError("FTS5 search found nothing")
    return f"SQLite {sqlite3.sqlite_version} with FTS5"


def check_torch() -> str:
    import torch

    a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    if float((a @ a.T).sum()) != 83.0:
        raise ValueError("torch computed a wrong matrix product")
    q = torch.ones(1, 1, 4, 8)
    torch.nn.functional.scaled_dot_product_attention(q, q, q)
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def check_safetensors(folder: Path) -> str:
    import torch
    from safetensors.torch import load_file, save_file

    path = folder / "round-trip.safetensors"
    save_file({"weight": torch.arange(4.0)}, str(path))
    if load_file(str(path))["weight"].tolist() != [0.0, 1.0, 2.0, 3.0]:
        raise ValueError("safetensors round trip changed the values")
    return "save and load"


def check_schedulers() -> str:
    """Every sampler the prompt panel offers, built from a model's scheduler config."""
    from diffusers import EulerDiscreteScheduler

    from desktop.core.params import SCHEDULERS
    from desktop.engine.schedulers import make_scheduler

    base = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012).config
    for name in SCHEDULERS:
        scheduler = make_scheduler(name, base)
        scheduler.set_timesteps(4)
    return f"{len(SCHEDULERS)} samplers"


def resources_folder() -> Path:
    import desktop

    return Path(desktop.__file__).resolve().parents[1] / "resources"


def check_resources() -> str:
    """Files the app reads at run time: model config skeletons, the CLIP tokenizer, icons, catalog."""
    import json

    from desktop.core.models import SD1, SD2, SDXL
    from desktop.engine.single_file import clip_tokenizer, config_folder

    root = resources_folder()
    for family in (SD1, SD2, SDXL):
        index = config_folder(family) / "model_index.json"
        if not index.is_file():
            raise FileNotFoundError(f"{index} is missing: single-file {family} checkpoints cannot load")
        json.loads(index.read_text(encoding="utf-8"))
    tokens = clip_tokenizer()("a red fox")["input_ids"]
    if len(tokens) < 3:
        raise ValueError("the shipped CLIP tokenizer gave no tokens")
    icon = root / "icons" / "atelier.svg"
    if not icon.is_file():
        raise FileNotFoundError(f"{icon} is missing")
    catalog = root / "catalog.json"
    if catalog.exists():
        json.loads(catalog.read_text(encoding="utf-8"))
    return f"model configs, CLIP tokenizer, icons{', catalog' if catalog.exists() else ''}"
