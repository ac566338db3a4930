"""fp16 variants: a catalog download takes `*.fp16.safetensors` where the repo has them (half the bytes), and
the app loads such a folder, upcast to fp32 on the CPU. Against the local fake hub, never the network."""

from __future__ import annotations

from pathlib import Path

import fake_hub
import numpy as np
import pytest

from desktop.core.catalog import DIFFUSERS_PATTERNS, CatalogEntry, load_catalog
from desktop.core.downloads import download, list_files, variant_name
from desktop.core.models import discover_models, weights_variant


def test_variant_names_follow_diffusers():
    assert variant_name("unet/diffusion_pytorch_model.safetensors", "fp16") == "unet/diffusion_pytorch_model.fp16.safetensors"
    assert variant_name("text_encoder/model.safetensors", "fp16") == "text_encoder/model.fp16.safetensors"
    assert variant_name("unet/x.safetensors.index.json", "fp16") == "unet/x.safetensors.index.fp16.json"
    assert variant_name("unet/config.json", "fp16") == "unet/config.json"


@pytest.fixture(scope="module")
def tiny_fp16_repo(tiny_sd15, tmp_path_factory) -> dict[str, bytes]:
    """The tiny pipeline as a hub repo holds it: fp32 weights and, beside the UNet's and text encoder's, fp16 ones."""
    import torch
    from diffusers import StableDiffusionPipeline

    folder = tmp_path_factory.mktemp("fp16-repo")
    pipe = StableDiffusionPipeline.from_pretrained(tiny_sd15, local_files_only=True)
    pipe.unet.to(torch.float16).save_pretrained(folder / "unet", variant="fp16")
    pipe.text_encoder.to(torch.float16).save_pretrained(folder / "text_encoder", variant="fp16")
    files = {str(p.relative_to(tiny_sd15)): p.read_bytes() for p in tiny_sd15.rglob("*") if p.is_file()}
    files.update({str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.fp16.safetensors")})
    return files


@pytest.fixture
def hub(tiny_fp16_repo, tmp_path):
    lfs = {name for name in tiny_fp16_repo if name.endswith(".safetensors")}
    with fake_hub.serve("studio/tiny-sd15", tiny_fp16_repo, lfs) as fake:
        fake.cache = tmp_path / "hf-cache"
        yield fake


def test_a_catalog_download_fetches_fp16_where_it_exists_and_the_app_loads_it_as_fp32(hub, tiny_fp16_repo):
    entry = CatalogEntry("tiny", "Tiny", "checkpoint", "SD 1.x", hub.repo, "main", tuple(DIFFUSERS_PATTERNS),
                         0, "MIT", 1.0, 1.0, variant="fp16")
    _, listed = list_files(entry.repo_id, patterns=list(entry.patterns), endpoint=hub.endpoint, variant=entry.variant)
    result = download(entry.repo_id, hub.cache, patterns=list(entry.patterns), endpoint=hub.endpoint,
                      variant=entry.variant)
    folder = Path(result.folder)
    weights = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.safetensors"))
    # the UNet and text encoder as fp16; the VAE, which has no fp16 file here, as it is
    assert weights == ["text_encoder/model.fp16.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
                       "vae/diffusion_pytorch_model.safetensors"]
    fp32_total = sum(len(data) for name, data in tiny_fp16_repo.items()
                     if ".fp16." not in name and any(__import__("fnmatch").fnmatch(name, p) for p in DIFFUSERS_PATTERNS))
    assert result.total_bytes == sum(f.size for f in listed) < 0.75 * fp32_total  # what is shown is what came
    assert weights_variant(folder) == "fp16"

    import torch

    from desktop.core.params import GenerationParams
    from desktop.engine.pipeline import ImageEngine

    [model] = [e for e in discover_models([], hub.cache) if e.kind == "checkpoint"]
    assert model.usable, model.problem
    engine = ImageEngine(device="cpu")
    engine.load(model.path)
    pipe = engine._pipes["txt2img"]
    assert pipe.unet.dtype == pipe.text_encoder.dtype == torch.float32  # upcast at load on the CPU
    image = engine.generate(GenerationParams(prompt="a fox", width=64, height=64, steps=2, seed=3))[0]
    assert np.asarray(image).std() > 0


def test_catalog_entries_with_fp16_variants_say_so_and_list_their_fp16_size():
    catalog = {entry.id: entry for entry in load_catalog()}
    for name in ("sd-turbo", "sdxl-turbo", "sd-1.5", "sdxl-base"):
        assert catalog[name].variant == "fp16"
    # SD 1.5's three weight files in fp16: about 1.06 G parameters x 2 bytes
    assert 2.0e9 < catalog["sd-1.5"].size_bytes < 2.3e9
    for name in ("lcm-lora-sd15", "lcm-lora-sdxl", "hyper-sd15-2steps", "hyper-sdxl-2steps", "taesd", "taesdxl"):
        assert catalog[name].size_bytes < 1e9  # the Fast mode add-ons are small downloads
