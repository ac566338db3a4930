"""Downloads against a local server that answers the way the hub's file API does (HF_ENDPOINT), never the hub."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from desktop.core import downloads
from desktop.core.downloads import DownloadCancelled, DownloadError, download

COMMIT = "a" * 40


def git_oid(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


class FakeHub:
    """Serves one repo: /api/models/<repo>/revision/<rev> and /<repo>/resolve/<rev>/<file>, with Range."""

    def __init__(self, repo: str, files: dict[str, bytes], lfs: set[str]):
        self.repo, self.files, self.lfs = repo, files, lfs
        self.ranges: list[str] = []  # Range headers seen on GETs
        self.cut_after: dict[str, int] = {}  # file -> drop the connection after this many bytes (once)
        self.corrupt: set[str] = set()  # files served with one byte flipped
        self.stop_event: threading.Event | None = None  # set once the first chunk of a GET went out

    def etag(self, name: str) -> str:
        data = self.files[name]
        return hashlib.sha256(data).hexdigest() if name in self.lfs else git_oid(data)

    def info(self) -> dict:
        siblings = []
        for name, data in self.files.items():
            entry = {"rfilename": name, "size": len(data), "blobId": git_oid(data)}
            if name in self.lfs:
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            siblings.append(entry)
        return {"id": self.repo, "modelId": self.repo, "sha": COMMIT, "private": False, "siblings": siblings}


def make_handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _file(self) -> str | None:
            match = re.fullmatch(rf"/{re.escape(hub.repo)}/resolve/[^/]+/(.+)", self.path.split("?")[0])
            return match.group(1) if match and match.group(1) in hub.files else None

        def _headers_for(self, name: str, length: int, status: int = 200, extra: dict | None = None):
            self.send_response(status)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hub.etag(name)}"')
            if name in hub.lfs:
                self.send_header("X-Linked-Etag", f'"{hub.etag(name)}"')
                self.send_header("X-Linked-Size", str(len(hub.files[name])))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()

        def do_HEAD(self):
            name = self._file()
            if name is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._headers_for(name, len(hub.files[name]))

        def do_GET(self):
            if self.path.startswith(f"/api/models/{hub.repo}/revision/"):
                body = json.dumps(hub.info()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path.startswith("/api/models/"):
                self.send_response(404)
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            name = self._file()
            if name is None:
                return self.do_HEAD()
            data = hub.files[name]
            if name in hub.corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start, status, extra = 0, 200, {}
            if "Range" in self.headers:
                hub.ranges.append(self.headers["Range"])
                start = int(re.fullmatch(r"bytes=(\d+)-", self.headers["Range"]).group(1))
                status, extra = 206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            body = data[start:]
            self._headers_for(name, len(body), status, extra)
            cut = hub.cut_after.pop(name, None)
            if cut is not None:  # send part of the body, then drop the connection
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            if hub.stop_event is not None:
                self.wfile.write(body[:1024])
                self.wfile.flush()
                hub.stop_event.set()
                time.sleep(0.3)  # the client sees the cancel before the rest arrives
                body = body[1024:]
            self.wfile.write(body)

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that cancels resets its connection: expected here


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fake hub on 127.0.0.1; offline mode stays on for everything but the download's own calls."""
    files = {
        "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
        "unet/diffusion_pytorch_model.safetensors": bytes(range(256)) * 4096,  # 1 MiB, LFS
        "vae/diffusion_pytorch_model.safetensors": b"\x07" * 300_000,
    }
    fake = FakeHub("studio/tiny-model", files, lfs={"unet/diffusion_pytorch_model.safetensors",
                                                    "vae/diffusion_pytorch_model.safetensors"})
    server = QuietServer(("127.0.0.1", 0), make_handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    fake.endpoint, fake.cache = endpoint, tmp_path / "hf-cache"
    yield fake
    server.shutdown()
    server.server_close()


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
