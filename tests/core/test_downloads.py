"""Downloads against a local server that answers the way the hub's file API does (HF_ENDPOINT), never the hub."""

from __future__ import annotations

import threading

import fake_hub
import pytest

from desktop.core import downloads
from desktop.core.downloads import DownloadCancelled, DownloadError, download
from fake_hub import COMMIT


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fake hub on 127.0.0.1; offline mode stays on for everything but the download's own calls."""
    with fake_hub.serve() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        fake.cache = tmp_path / "hf-cache"
        yield fake


def test_download_fills_the_hub_cache_with_verified_files_and_reports_progress(hub):
    seen = []
    result = download(hub.repo, hub.cache, endpoint=hub.endpoint, on_progress=seen.append)
    folder = hub.cache / "models--studio--tiny-model" / "snapshots" / COMMIT
    assert result.folder == str(folder) and result.commit == COMMIT
    for name, data in hub.files.items():
        assert (folder / name).read_bytes() == data
        assert (folder / name).is_symlink()
    assert (hub.cache / "models--studio--tiny-model" / "refs" / "main").read_text() == COMMIT
    assert seen[-1].done_bytes == seen[-1].total_bytes == sum(len(d) for d in hub.files.values())
    assert seen[-1].files_done == 3 and all(p.total_bytes == seen[-1].total_bytes for p in seen)
    assert not list(hub.cache.rglob("*.incomplete"))
    from huggingface_hub import constants

    assert constants.HF_HUB_OFFLINE  # the app's offline switch is back on


def test_an_interrupted_transfer_resumes_where_it_stopped(hub):
    big = "unet/diffusion_pytorch_model.safetensors"
    hub.cut_after[big] = 400_000
    download(hub.repo, hub.cache, endpoint=hub.endpoint)
    assert hub.ranges == ["bytes=400000-"]
    blob = hub.cache / "models--studio--tiny-model" / "blobs" / hub.etag(big)
    assert blob.read_bytes() == hub.files[big]


def test_cancel_keeps_the_partial_file_and_the_next_download_resumes(hub):
    cancel = threading.Event()
    hub.stop_event = cancel  # the server sets it once the first KiB of a file went out
    with pytest.raises(DownloadCancelled):
        download(hub.repo, hub.cache, endpoint=hub.endpoint, cancel=cancel,
                 patterns=["unet/*"])
    partials = list(hub.cache.rglob("*.incomplete"))
    assert len(partials) == 1 and 0 < partials[0].stat().st_size < len(hub.files["unet/diffusion_pytorch_model.safetensors"])
    kept = partials[0].stat().st_size
    hub.stop_event = None
    download(hub.repo, hub.cache, endpoint=hub.endpoint, patterns=["unet/*"])
    assert hub.ranges == [f"bytes={kept}-"]
    assert not list(hub.cache.rglob("*.incomplete"))


def test_a_corrupted_file_fails_verification_and_is_removed(hub):
    hub.corrupt.add("vae/diffusion_pytorch_model.safetensors")
    with pytest.raises(DownloadError, match="failed verification"):
        download(hub.repo, hub.cache, endpoint=hub.endpoint)
    repo = hub.cache / "models--studio--tiny-model"
    assert not list(repo.rglob("*.incomplete"))
    assert not (repo / "blobs" / hub.etag("vae/diffusion_pytorch_model.safetensors")).exists()
    assert not (repo / "snapshots" / COMMIT / "vae" / "diffusion_pytorch_model.safetensors").exists()
    hub.corrupt.clear()
    download(hub.repo, hub.cache, endpoint=hub.endpoint)  # a clean retry finishes


def test_a_corrupted_plain_file_fails_its_git_object_id(hub):
    hub.corrupt.add("model_index.json")
    with pytest.raises(DownloadError, match="git-sha1"):
        download(hub.repo, hub.cache, endpoint=hub.endpoint, patterns=["*.json"])


def test_bad_repo_ids_and_missing_repos_and_full_disks_get_clear_messages(hub, monkeypatch):
    with pytest.raises(DownloadError, match="owner/name"):
        download("not a repo", hub.cache, endpoint=hub.endpoint)
    with pytest.raises(DownloadError, match="no model 'studio/other'"):
        download("studio/other", hub.cache, endpoint=hub.endpoint)
    with pytest.raises(DownloadError, match="no files matching"):
        download(hub.repo, hub.cache, endpoint=hub.endpoint, patterns=["*.gguf"])

    class Tiny:
        free = 1000

    monkeypatch.setattr(downloads.shutil, "disk_usage", lambda _path: Tiny)
    with pytest.raises(DownloadError, match="not enough disk space"):
        download(hub.repo, hub.cache, endpoint=hub.endpoint)
    assert not list(hub.cache.rglob("blobs/*"))


def test_an_unreachable_hub_is_a_message_not_a_crash(tmp_path):
    with pytest.raises(DownloadError, match="cannot reach"):
        download("studio/tiny-model", tmp_path, endpoint="http://127.0.0.1:9")  # nothing listens on port 9
