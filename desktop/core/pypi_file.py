"""One release file straight from PyPI, for the app bundle (it has no pip): the JSON API names the file's
address and SHA-256; the download streams into a temporary file, is checked, then renamed into place.

ATELIER_PYPI_URL points it at another index with PyPI's JSON API (a mirror; tests use a local server).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PYPI_URL = "https://pypi.org"
TIMEOUT_S = 30  # per connection and per read: a stalled server fails, a slow one goes on
MAX_BYTES = 512 * 1024 * 1024  # far above any file fetched this way: a server sending more is not PyPI


def index_url() -> str:
    return os.environ.get("ATELIER_PYPI_URL", PYPI_URL).rstrip("/")


def fetch_release_file(package: str, version: str, filename: str, target: Path, error=RuntimeError) -> Path:
    """Download `filename` of `package==version` to `target`, verified by PyPI's SHA-256; raises `error`
    with a sentence saying what went wrong and what to do."""
    import requests

    where = f"{index_url()}/pypi/{package}/{version}/json"
    by_hand = f"or put {filename} into {Path(target).parent} by hand"
    try:
        reply = requests.get(where, timeout=TIMEOUT_S)
        reply.raise_for_status()
        files = reply.json().get("urls", [])
    except (requests.RequestException, ValueError, AttributeError) as problem:
        raise error(f"could not ask PyPI about {package} {version} ({problem}); check the network, {by_hand}") \
            from None
    entry = next((f for f in files if isinstance(f, dict) and f.get("filename") == filename), None)
    if entry is None or not entry.get("url") or not entry.get("digests", {}).get("sha256"):
        raise error(f"PyPI lists no {filename} for {package} {version}; {by_hand}")
    expected = entry["digests"]["sha256"]
    partial = Path(target).with_name(Path(target).name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        with requests.get(entry["url"], stream=True, timeout=TIMEOUT_S) as download, partial.open("wb") as out:
            download.raise_for_status()
            for block in download.iter_content(1024 * 1024):
                size += len(block)
                if size > MAX_BYTES:
                    raise error(f"{filename} from {index_url()} is larger than any release file should be; "
                                "nothing was kept")
                digest.update(block)
                out.write(block)
    except requests.RequestException as problem:
        partial.unlink(missing_ok=True)
        raise error(f"the download of {filename} failed ({problem}); try again, {by_hand}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise error(f"{filename} does not match the SHA-256 PyPI gives for it: the download is damaged or "
                    f"altered, nothing was kept; try again, {by_hand}")
    os.replace(partial, target)
    return Path(target)
