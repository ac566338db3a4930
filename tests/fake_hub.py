"""A local server that answers the way the Hugging Face hub's file API does, for download tests.

GET /api/models/<repo>/revision/<rev>?blobs=true  -> the repo listing (sha, siblings with size, sha256)
HEAD/GET /<repo>/resolve/<rev>/<file>             -> X-Repo-Commit, ETag, X-Linked-Etag/Size, Range
It can drop a connection part-way, corrupt a file, or pause so a cancel lands mid-file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


FILES = {
    "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
    "unet/diffusion_pytorch_model.safetensors": bytes(range(256)) * 4096,  # 1 MiB, LFS
    "vae/diffusion_pytorch_model.safetensors": b"\x07" * 300_000,
}
LFS = {"unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors"}


@contextlib.contextmanager
def serve(repo: str = "studio/tiny-model", files: dict[str, bytes] | None = None, lfs: set[str] | None = None):
    """A running fake hub on 127.0.0.1 (a free port); yields it with .endpoint set."""
    fake = FakeHub(repo, dict(files or FILES), set(LFS if lfs is None else lfs))
    server = QuietServer(("127.0.0.1", 0), make_handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
