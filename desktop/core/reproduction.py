"""Reproduce: compare a regenerated image with the saved one, and fingerprint source images and masks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PixelMatch:
    """How closely a regenerated image matches the saved one."""

    identical: bool
    same_size: bool
    max_difference: int = 0  # largest per-channel difference, 0..255
    changed_fraction: float = 0.0  # share of pixels that differ at all

    def describe(self) -> str:
        if self.identical:
            return "Reproduced exactly: every pixel matches."
        if not self.same_size:
            return "Not reproduced: the new image has a different size."
        return (f"Close but not identical: {self.changed_fraction:.1%} of pixels differ, by at most "
                f"{self.max_difference}/255 (different hardware, library versions or settings change the noise).")


def image_sha256(image) -> str:
    """A fingerprint of the pixels (not the file), for source images and masks in Atelier's record."""
    rgb = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    digest = hashlib.sha256(f"{rgb.mode}{rgb.width}x{rgb.height}".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


def compare_pixels(saved: str | Path, image) -> PixelMatch:
    """`image` (a PIL image) against the image saved at `saved`, ignoring alpha."""
    import numpy
    from PIL import Image

    with Image.open(saved) as original:
        before = numpy.asarray(original.convert("RGB"), dtype=numpy.int16)
    after = numpy.asarray(image.convert("RGB"), dtype=numpy.int16)
    if before.shape != after.shape:
        return PixelMatch(identical=False, same_size=False)
    difference = numpy.abs(before - after)
    changed = float(numpy.any(difference > 0, axis=2).mean())
    return PixelMatch(identical=changed == 0.0, same_size=True, max_difference=int(difference.max()), changed_fraction=changed)
