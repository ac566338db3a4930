"""Download a model from the Hugging Face hub into the shared cache: progress, cancel, resume, verified.

Only when the user asks: nothing here runs at start-up. huggingface_hub lists the repository (sizes
and sha256 of every file) and answers each file's metadata (commit, etag, redirect); Atelier streams
the bytes itself through the hub's HTTP session because huggingface_hub 2.4 deletes a partial file
when a download fails, and a 5 GB download cut at 90% should not start again from zero. Every file
is checked against the hub's sha256 (LFS) or git object id before it is linked into the snapshot.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.core import hub_cache

CHUNK = 1024 * 1024
RETRIES = 3
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
_online_lock = threading.Lock()


class DownloadError(RuntimeError):
    """A download that failed, with what happened and what to do."""


class DownloadCancelled(Exception):
    """The user cancelled; what was fetched is kept and resumes next time."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository, as the hub lists it."""

    name: str
    size: int
    sha256: str | None = None  # LFS files
    blob_id: str | None = None  # git object id (plain files)


@dataclass(frozen=True)
class DownloadProgress:
    """How far a download is: bytes, speed, time left, and the file being fetched."""

    repo_id: str
    done_bytes: int
    total_bytes: int
    bytes_per_second: float
    seconds_left: float | None
    file: str
    files_done: int
    files_total: int

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class DownloadResult:
    """A finished download: the snapshot folder that from_pretrained(local_files_only=True) can load."""

    repo_id: str
    commit: str
    folder: str
    total_bytes: int


@contextlib.contextmanager
def online():
    """Lift the app's offline switch for the hub calls of one download (HF_HUB_OFFLINE=1 stays for the rest)."""
    from huggingface_hub import constants

    with _online_lock:
        saved = constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_XET
        # plain HTTP, not Xet: it is what lets a partial file resume and a cancel stop within one chunk
        constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_XET = False, True
        try:
            yield
        finally:
            constants.HF_HUB_OFFLINE, constants.HF_HUB_DISABLE_XET = saved


def _explain(error: Exception, repo_id: str) -> DownloadError:
    from huggingface_hub import errors

    if isinstance(error, errors.GatedRepoError):
        return DownloadError(f"{repo_id} is gated: accept its licence on its Hugging Face page, then log in "
                             "(hf auth login) and try again")
    if isinstance(error, errors.RepositoryNotFoundError):
        return DownloadError(f"no model {repo_id!r} on the hub (or it is private): check the name")
    if isinstance(error, errors.RevisionNotFoundError):
        return DownloadError(f"{repo_id} has no such revision: check the branch or commit")
    if isinstance(error, errors.EntryNotFoundError):
        return DownloadError(f"a file of {repo_id} is missing on the hub: {error}")
    if isinstance(error, errors.HfHubHTTPError):
        return DownloadError(f"the hub answered with an error for {repo_id}: {str(error).splitlines()[0]}")
    return DownloadError(f"cannot reach the Hugging Face hub ({type(error).__name__}: {error}); check the "
                         "connection and try again: what was fetched is kept")


def variant_name(name: str, variant: str) -> str:
    """diffusers' name for a weight file's variant: unet/diffusion_pytorch_model.safetensors ->
    unet/diffusion_pytorch_model.fp16.safetensors (and x.safetensors.index.json -> x.safetensors.index.fp16.json)."""
    if name.endswith(".index.json"):
        return name[: -len(".json")] + f".{variant}.json"
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{variant}.{suffix}" if dot and suffix in ("safetensors", "bin") else name


def prefer_variant(chosen: list[str], everything: set[str], variant: str | None) -> list[str]:
    """Each chosen weight file swapped for its variant where the repository has one (fp16: half the bytes)."""
    if not variant:
        return chosen
    return [variant_name(name, variant) if variant_name(name, variant) in everything else name for name in chosen]


def list_files(repo_id: str, revision: str = "main", patterns: list[str] | None = None,
               endpoint: str | None = None, token: str | bool | None = None,
               variant: str | None = None) -> tuple[str, list[RemoteFile]]:
    """(commit, files) of a repository, filtered by glob patterns (None: every file); with `variant`
    ("fp16"), a weight file is fetched as that variant wherever the repository has it."""
    if not _REPO_ID.match(repo_id or ""):
        raise DownloadError(f"{repo_id!r} is not a Hugging Face repo id; write it as owner/name, e.g. "
                            "stabilityai/sd-turbo")
    from huggingface_hub import HfApi

    try:
        with online():
            info = HfApi(endpoint=endpoint).model_info(repo_id, revision=revision, files_metadata=True, token=token)
    except Exception as error:  # network and hub errors of many kinds: each gets its own message
        raise _explain(error, repo_id) from error
    files = []
    siblings = {sibling.rfilename: sibling for sibling in info.siblings or []}
    chosen = [name for name in siblings if patterns is None or any(fnmatch.fnmatch(name, p) for p in patterns)]
    for name in prefer_variant(chosen, set(siblings), variant):
        sibling = siblings[name]
        lfs = sibling.lfs
        files.append(RemoteFile(sibling.rfilename, int(lfs.size if lfs else sibling.size or 0),
                                lfs.sha256 if lfs else None, sibling.blob_id))
    if not files:
        raise DownloadError(f"{repo_id} has no files matching {patterns}")
    return info.sha, files


class _Meter:
    """Bytes done, speed (smoothed over a few seconds) and time left; calls back at most ten times a second."""

    def __init__(self, repo_id: str, total: int, files_total: int, callback: Callable | None):
        self.repo_id, self.total, self.files_total, self.callback = repo_id, total, files_total, callback
        self.done, self.files_done, self.speed, self.file = 0, 0, 0.0, ""
        self._mark_time, self._mark_bytes, self._last_call = time.monotonic(), 0, 0.0

    def add(self, count: int, force: bool = False) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._mark_time >= 0.5:
            rate = (self.done - self._mark_bytes) / (now - self._mark_time)
            self.speed = rate if self.speed == 0 else 0.7 * self.speed + 0.3 * rate
            self._mark_time, self._mark_bytes = now, self.done
        if self.callback and (force or now - self._last_call >= 0.1):
            self._last_call = now
            left = (self.total - self.done) / self.speed if self.speed > 0 else None
            self.callback(DownloadProgress(self.repo_id, self.done, self.total, self.speed, left, self.file,
                                           self.files_done, self.files_total))


def download(repo_id: str, cache_dir: str | Path, revision: str = "main", patterns: list[str] | None = None,
             endpoint: str | None = None, token: str | bool | None = None,
             on_progress: Callable[[DownloadProgress], None] | None = None,
             cancel: threading.Event | None = None, variant: str | None = None) -> DownloadResult:
    """Fetch the files of a repository into the hub cache; raises DownloadCancelled or DownloadError."""
    cancel = cancel or threading.Event()
    # HF_ENDPOINT (a mirror) is honoured when set after huggingface_hub was imported, too
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None
    commit, files = list_files(repo_id, revision, patterns, endpoint, token, variant)
    cache_dir = Path(cache_dir)
    meter = _Meter(repo_id, sum(f.size for f in files), len(files), on_progress)
    _check_space(cache_dir, repo_id, files)
    snapshot = hub_cache.snapshot_folder(cache_dir, repo_id, commit)
    for remote in files:
        if cancel.is_set():
            raise DownloadCancelled(f"download of {repo_id} cancelled")
        meter.file = remote.name
        _fetch(remote, repo_id, commit, cache_dir, endpoint, token, meter, cancel)
        meter.files_done += 1
        meter.add(0, force=True)
    hub_cache.write_ref(cache_dir, repo_id, revision, commit)
    return DownloadResult(repo_id, commit, str(snapshot), meter.total)


def _check_space(cache_dir: Path, repo_id: str, files: list[RemoteFile]) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    needed = 0
    for remote in files:
        digest = remote.sha256 or remote.blob_id or ""
        blob = hub_cache.blob_path(cache_dir, repo_id, digest)
        partial = hub_cache.partial_path(blob)
        if not blob.exists():
            needed += remote.size - (partial.stat().st_size if partial.exists() else 0)
    free = shutil.disk_usage(cache_dir).free
    if needed > free:
        raise DownloadError(f"not enough disk space for {repo_id}: it needs {needed / 1e9:.1f} GB more and "
                            f"{cache_dir} has {free / 1e9:.1f} GB free")


def _fetch(remote: RemoteFile, repo_id: str, commit: str, cache_dir: Path, endpoint, token, meter: _Meter,
           cancel: threading.Event) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, remote.name, revision=commit, endpoint=endpoint)
    try:
        with online():
            meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
    except Exception as error:
        raise _explain(error, repo_id) from error
    etag = meta.etag or remote.sha256 or remote.blob_id
    blob = hub_cache.blob_path(cache_dir, repo_id, etag)
    snapshot = hub_cache.snapshot_folder(cache_dir, repo_id, commit)
    if blob.exists() and blob.stat().st_size == remote.size:
        meter.add(remote.size)
        hub_cache.link_into_snapshot(blob, snapshot, remote.name)
        return
    algorithm, wanted = hub_cache.expected_digest(etag, remote.sha256, remote.blob_id)
    partial = hub_cache.partial_path(blob)
    partial.parent.mkdir(parents=True, exist_ok=True)
    start = meter.done
    for attempt in range(RETRIES + 1):
        meter.done = start  # _stream counts what the partial file already holds
        try:
            hasher = _stream(meta.location, partial, remote, algorithm, endpoint, token, meter, cancel)
            break
        except (DownloadCancelled, DownloadError):
            raise
        except OSError as error:
            if getattr(error, "errno", None) == 28:  # ENOSPC: free the space again, a partial cannot finish
                partial.unlink(missing_ok=True)
                raise DownloadError(f"the disk filled up while downloading {remote.name}; free some space in "
                                    f"{cache_dir} and try again") from error
            raise
        except Exception as error:  # connection dropped, timeout, server error: resume from what we have
            if attempt == RETRIES:
                raise DownloadError(f"the connection kept dropping while downloading {remote.name} "
                                    f"({type(error).__name__}); {partial.stat().st_size if partial.exists() else 0:,} "
                                    "bytes are kept and the next try resumes from there") from error
            time.sleep(min(2 ** attempt, 8) * 0.25)
    if hasher.hexdigest() != wanted:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"{remote.name} failed verification ({algorithm} does not match the hub's): the file "
                            "arrived corrupted and was removed; try the download again")
    partial.replace(blob)
    hub_cache.link_into_snapshot(blob, snapshot, remote.name)


def _stream(location: str, partial: Path, remote: RemoteFile, algorithm: str, endpoint, token, meter: _Meter,
            cancel: threading.Event):
    """Append the rest of the file to `partial` (HTTP Range from its size); returns the finished hasher."""
    import hashlib

    from huggingface_hub import constants
    from huggingface_hub.utils import build_hf_headers, get_session

    have = partial.stat().st_size if partial.exists() else 0
    if have > remote.size:
        partial.unlink()
        have = 0
    hasher = hashlib.sha256() if algorithm == "sha256" else hub_cache.git_blob_hasher(remote.size)
    headers = {"Accept-Encoding": "identity"}
    if location.startswith(endpoint or constants.ENDPOINT):  # never send a token to a CDN
        headers.update(build_hf_headers(token=token))
    if have:
        headers["Range"] = f"bytes={have}-"
    with online(), get_session().stream("GET", location, headers=headers, follow_redirects=True,
                                        timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT) as response:
        if response.status_code not in (200, 206):
            raise DownloadError(f"the server answered {response.status_code} for {remote.name}")
        mode = "ab" if have and response.status_code == 206 else "wb"  # 200: the server ignored Range
        if mode == "ab":
            with partial.open("rb") as existing:
                while block := existing.read(CHUNK):
                    hasher.update(block)
        else:
            have = 0
        meter.add(have)
        with partial.open(mode) as handle:
            for chunk in response.iter_bytes():  # as it arrives: a dropped connection keeps every byte received
                handle.write(chunk)
                hasher.update(chunk)
                meter.add(len(chunk))
                if cancel.is_set():  # after the write: every byte received is kept for the resume
                    raise DownloadCancelled(f"download of {remote.name} cancelled")
    if partial.stat().st_size != remote.size:
        raise ConnectionError(f"{remote.name}: got {partial.stat().st_size} of {remote.size} bytes")
    return hasher
