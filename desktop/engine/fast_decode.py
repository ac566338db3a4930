"""Fast final decode: TAESD turns latents into pixels at a fraction of the full VAE's cost.

On 2 CPU cores at 512 px the full SD VAE decode costs about as much as several UNet steps
(~22 s), TAESD ~1.7 s (benchmarks/RESULTS.md). It is slightly less sharp, so it is a choice
(Settings.fast_decode), used only when a TAESD folder for the model's family is installed:
`taesd` for SD 1.x/2.x, `taesdxl` for SDXL, in the models folder (nothing is downloaded).
"""

from __future__ import annotations

from pathlib import Path

import torch

from desktop.core import json_text

FOLDER_NAMES = {"SDXL": ("taesdxl",)}
DEFAULT_NAMES = ("taesd",)


def is_taesd_folder(folder: Path) -> bool:
    try:
        config = json_text.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return config.get("_class_name") == "AutoencoderTiny"


def find_taesd(folders: list[Path], family: str) -> Path | None:
    """The TAESD folder for this family in any of the model folders, or None."""
    for name in FOLDER_NAMES.get(family, DEFAULT_NAMES):
        for root in folders:
            candidate = Path(root) / name
            if is_taesd_folder(candidate):
                return candidate
    return None


class FastDecoder:
    """A loaded TAESD that decodes a pipeline's latents into PIL images."""

    def __init__(self, folder: str | Path, device: str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        from diffusers import AutoencoderTiny

        self.folder = str(folder)
        self.model = AutoencoderTiny.from_pretrained(folder, local_files_only=True, dtype=dtype).to(device).eval()

    def decode(self, pipe, latents: torch.Tensor) -> list:
        """Latents as the pipeline returns them with output_type="latent" (already scaled) -> PIL images."""
        model = self.model
        with torch.inference_mode():
            latents = latents.to(device=model.device, dtype=model.dtype)
            # TAESD was trained on scaled latents: its scaling_factor is 1 and it takes them as they are
            images = model.decode(latents / model.config.scaling_factor).sample
        return pipe.image_processor.postprocess(images.float(), output_type="pil")
