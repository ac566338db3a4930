"""Cached gallery thumbnails: made once per image version (path + mtime + size), then read from disk."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from desktop.core.atomic import write_bytes_atomic

SIZE = 256


class ThumbnailCache:
    """256 px thumbnails in a cache folder: JPEG for opaque images, PNG where there is transparency."""

    def __init__(self, cache_dir: Path, size: int = SIZE) -> None:
        self.cache_dir, self.size = Path(cache_dir), size

    def _key(self, path: Path) -> str | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        ident = f"{path.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{self.size}"
        return hashlib.sha1(ident.encode("utf-8", "surrogatepass")).hexdigest()

    def cached(self, path: str | Path) -> Path | None:
        """The thumbnail when it is already made (cheap: two stats), else None."""
        key = self._key(Path(path))
        if key is None:
            return None
        for suffix in (".jpg", ".png"):
            thumb = self.cache_dir / key[:2] / f"{key}{suffix}"
            if thumb.exists():
                return thumb
        return None

    def get(self, path: str | Path) -> Path | None:
        """The thumbnail, made now if needed; None when the image cannot be read (the gallery shows a placeholder)."""
        path = Path(path)
        found = self.cached(path)
        if found is not None:
            return found
        key = self._key(path)
        if key is None:
            return None
        from PIL import Image

        try:
            with Image.open(path) as image:
                image.draft("RGB", (self.size, self.size))  # JPEG: decode at a reduced scale, much faster
                image.thumbnail((self.size, self.size))
                transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                image = image.convert("RGBA" if transparent else "RGB")
                buffer = io.BytesIO()
                if transparent:
                    image.save(buffer, format="PNG", compress_level=1)
                else:
                    image.save(buffer, format="JPEG", quality=85)
        except Exception:  # noqa: BLE001 - damaged or odd images must not stop the gallery
            return None
        thumb = self.cache_dir / key[:2] / f"{key}{'.png' if transparent else '.jpg'}"
        try:
            write_bytes_atomic(thumb, buffer.getvalue())
        except OSError:
            return None
        return thumb

    def prune(self, keep: int = 20_000) -> int:
        """Delete the least recently made thumbnails beyond `keep`; returns how many went."""
        files = sorted(self.cache_dir.glob("*/*.*"), key=lambda p: p.stat().st_mtime, reverse=True)
        removed = 0
        for thumb in files[keep:]:
            try:
                os.unlink(thumb)
                removed += 1
            except OSError:
                pass
        return removed
