"""The Hugging Face cache layout, for files Atelier downloads itself (so that they resume across sessions).

models--org--name/blobs/<etag>            the file's bytes, named by its etag (sha256 for LFS files)
models--org--name/blobs/<etag>.incomplete a partial download, kept so that the next try resumes
models--org--name/snapshots/<commit>/path a relative symlink to the blob (a copy where links fail)
models--org--name/refs/<revision>         the commit a branch name pointed to

This is the layout huggingface_hub reads, so diffusers/transformers find the files with
local_files_only=True and `hf cache` tools manage them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from desktop.core.atomic import write_text_atomic


def repo_folder(cache_dir: str | Path, repo_id: str) -> Path:
    return Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))


def blob_path(cache_dir: str | Path, repo_id: str, etag: str) -> Path:
    return repo_folder(cache_dir, repo_id) / "blobs" / etag


def snapshot_folder(cache_dir: str | Path, repo_id: str, commit: str) -> Path:
    return repo_folder(cache_dir, repo_id) / "snapshots" / commit


def partial_path(blob: Path) -> Path:
    return blob.with_name(blob.name + ".incomplete")


def link_into_snapshot(blob: Path, snapshot: Path, filename: str) -> Path:
    """Point snapshots/<commit>/<filename> at the blob (relative link, as the hub does)."""
    target = snapshot / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    try:
        os.symlink(os.path.relpath(blob, target.parent), target)
    except OSError:  # filesystems without symlinks (some Windows setups): a copy, as the hub falls back to
        shutil.copyfile(blob, target)
    return target


def write_ref(cache_dir: str | Path, repo_id: str, revision: str, commit: str) -> None:
    if revision != commit:
        write_text_atomic(repo_folder(cache_dir, repo_id) / "refs" / revision, commit)


def git_blob_hasher(size: int):
    """git's object id for a plain (non-LFS) file: sha1 over "blob <size>\\0" and the bytes."""
    hasher = hashlib.sha1()
    hasher.update(f"blob {size}\0".encode())
    return hasher


def expected_digest(etag: str, sha256: str | None, blob_id: str | None) -> tuple[str, str]:
    """(algorithm, hex digest) the finished file must have: sha256 for LFS files, git's sha1 otherwise."""
    if sha256:
        return "sha256", sha256.lower()
    if len(etag) == 64:
        return "sha256", etag.lower()
    return "git-sha1", (blob_id or etag).lower()


def remove_file_from_snapshot(cache_dir: str | Path, repo_id: str, commit: str, filename: str, etag: str) -> None:
    for path in (snapshot_folder(cache_dir, repo_id, commit) / filename, blob_path(cache_dir, repo_id, etag)):
        if path.is_symlink() or path.exists():
            path.unlink()
