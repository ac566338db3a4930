"""Sample files in other tools' documented metadata layouts, built with Pillow (not with Atelier's writer)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

EXIF_IFD, USER_COMMENT, MAKER_NOTE, SOFTWARE = 0x8769, 0x9286, 0x927C, 0x0131

A1111_TEXT = (
    "masterpiece, a (red:1.2) fox in the snow, <lora:add_detail:0.6>\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, "
    "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, "
    'Hires upscale: 2, Lora hashes: "add_detail: 7c6bad76eb54", Version: v1.10.1'
)


def png(path: Path, texts: dict[str, str], itxt: tuple[str, ...] = (), size=(64, 64)) -> Path:
    info = PngInfo()
    for key, value in texts.items():
        if key in itxt:
            info.add_itxt(key, value)
        else:
            info.add_text(key, value)
    Image.new("RGB", size, (30, 60, 90)).save(path, pnginfo=info)
    return path


def exif_image(path: Path, comment: bytes | str, fmt: str = "JPEG", in_ifd0: bool = False,
               extra_tags: dict | None = None) -> Path:
    """A JPEG/WebP with an EXIF UserComment, the way A1111 (piexif, Exif IFD) or Fooocus (IFD0) write it."""
    exif = Image.Exif()
    if in_ifd0:
        exif[USER_COMMENT] = comment
    else:
        exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
    for tag, value in (extra_tags or {}).items():
        exif[tag] = value
    Image.new("RGB", (64, 64), (90, 60, 30)).save(path, format=fmt, exif=exif.tobytes())
    return path


def unicode_comment(text: str, big_endian: bool = True) -> bytes:
    return b"UNICODE\0" + text.encode("utf-16-be" if big_endian else "utf-16-le")


def comfy_default_graph(seed=156680208700286) -> dict:
    """ComfyUI's default text-to-image graph (API format), with a LoRA between loader and sampler."""
    return {
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 20, "cfg": 8, "sampler_name": "dpmpp_2m",
              "scheduler": "karras", "denoise": 1, "model": ["10", 0], "positive": ["6", 0],
              "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"lora_name": "styles/film_grain.safetensors",
               "strength_model": 0.7, "strength_clip": 0.7, "model": ["4", 0], "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "beautiful scenery, glass bottle", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["10", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }


def comfy_png(path: Path, graph: dict, workflow: dict | None = None) -> Path:
    texts = {"prompt": json.dumps(graph)}
    if workflow is not None:
        texts["workflow"] = json.dumps(workflow)
    return png(path, texts)
