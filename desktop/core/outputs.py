"""Saving generated images into the outputs folder, numbered like A1111 (`00042-<seed>.png`)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from desktop.core.atomic import write_bytes_atomic
from desktop.core.metadata import format_a1111_parameters  # noqa: F401 - re-exported for callers
from desktop.core.metadata.writer import generation_texts, png_bytes, with_c2pa
from desktop.core.params import GenerationParams

_NUMBERED = re.compile(r"^(\d{5,})-")


class SaveError(OSError):
    """An image could not be written; the message says why and what to do."""


def next_counter(outputs_dir: Path) -> int:
    """One more than the highest `NNNNN-` prefix in the folder (0 for an empty or missing folder)."""
    highest = -1
    try:
        with os.scandir(outputs_dir) as entries:
            for entry in entries:
                match = _NUMBERED.match(entry.name)
                if match:
                    highest = max(highest, int(match.group(1)))
    except FileNotFoundError:
        pass
    return highest + 1


def output_path(outputs_dir: Path, seed: int, suffix: str = ".png") -> Path:
    """The next free `NNNNN-<seed>.png` in the folder."""
    counter = next_counter(outputs_dir)
    while True:
        path = outputs_dir / f"{counter:05d}-{seed}{suffix}"
        if not path.exists():
            return path
        counter += 1


def _save_error(error: OSError, folder: Path) -> SaveError:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        advice = "the disk is full: free some space or choose another outputs folder in Settings"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "Atelier may not write there: choose another outputs folder in Settings"
    elif error.errno in (errno.ENOTDIR, errno.EEXIST):
        advice = "that path is a file, not a folder: choose another outputs folder in Settings"
    else:
        advice = "check the folder exists and is writable, or choose another one in Settings"
    reason = error.strerror or str(error)
    message = f"could not save the image in {folder}: {reason}; {advice}. The image is still on the canvas."
    return SaveError(error.errno or errno.EIO, message)


def save_generation(
    image,
    params: GenerationParams,
    outputs_dir: Path,
    *,
    model_name: str,
    model_hash: str = "",
    seconds: float = 0.0,
    extra: dict | None = None,
    path: Path | None = None,
    c2pa_key_dir: Path | None = None,
) -> Path:
    """Write `image` (a PIL image) as a PNG with A1111 text, Atelier's record and an AI-generated XMP mark.

    With `c2pa_key_dir` (pass it when Settings.write_c2pa is on, e.g. config_dir / "c2pa") a signed
    C2PA manifest is embedded as well. The file appears whole or not at all. Raises SaveError (an OSError) with a message a person can
    act on when the folder is full or unwritable; the caller keeps the image.
    """
    outputs_dir = Path(outputs_dir)
    texts = generation_texts(params, model_name=model_name, model_hash=model_hash, seconds=seconds, extra=extra)
    data = png_bytes(image, texts)
    target_name = Path(path).name if path is not None else f"seed {params.seed}"
    if c2pa_key_dir is not None:
        data = with_c2pa(data, "PNG", Path(c2pa_key_dir), target_name)
    try:
        outputs_dir.mkdir(parents=True, exist_ok=True)
        target = Path(path) if path is not None else output_path(outputs_dir, params.seed)
        write_bytes_atomic(target, data)
    except OSError as error:
        raise _save_error(error, Path(path).parent if path is not None else outputs_dir) from error
    return target


class UnsavedImages:
    """Generated images whose save failed, held in memory until a retry (or another folder) works.

    Not thread-safe: use it from the thread that saves (the GUI thread in the app).
    """

    def __init__(self) -> None:
        self._pending: list[tuple[object, GenerationParams, dict]] = []
        self.last_error = ""

    def __len__(self) -> int:
        return len(self._pending)

    def save(self, image, params: GenerationParams, outputs_dir: Path, **options) -> Path | None:
        """save_generation, but a failure keeps the image here and returns None (the reason is `last_error`)."""
        try:
            path = save_generation(image, params, outputs_dir, **options)
        except SaveError as error:
            self._pending.append((image, params, dict(options, outputs_dir=Path(outputs_dir))))
            self.last_error = str(error)
            return None
        return path

    def retry(self, outputs_dir: Path | None = None) -> list[Path]:
        """Save what is held (into `outputs_dir` when given); what still fails stays held."""
        saved, still = [], []
        for image, params, options in self._pending:
            options = dict(options)
            folder = Path(outputs_dir) if outputs_dir is not None else options.pop("outputs_dir")
            options.pop("outputs_dir", None)
            if outputs_dir is not None:
                options.pop("path", None)  # a chosen file name belonged to the old folder
            try:
                saved.append(save_generation(image, params, folder, **options))
            except SaveError as error:
                self.last_error = str(error)
                still.append((image, params, dict(options, outputs_dir=folder)))
        self._pending = still
        if not still:
            self.last_error = ""
        return saved
