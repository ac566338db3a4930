"""A real TCP proxy in front of the real ComfyUI, for the failures a remote server can serve.

It forwards every request (WebSocket upgrades included) unless a path is given a hostile answer:
garbage JSON, a 10 GB body (declared or streamed without end), an image whose header claims enormous
dimensions. With `token` set it answers 401 to requests without `Authorization: Bearer <token>`, as a
reverse proxy in front of a shared ComfyUI does. It records each request's head (to prove what was sent).
"""

from __future__ import annotations

import socket
import struct
import threading
import zlib
from typing import Callable

TEN_GB = 10 * 1024**3


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
        if len(data) > 1 << 20:
            return b"", b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _send_all_until_closed(sock: socket.socket, head: bytes, chunk: bytes, limit: int) -> None:
    try:
        sock.sendall(head)
        sent = 0
        while sent < limit:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the client stopped reading: what we want to see


def garbage_json(sock: socket.socket) -> None:
    body = b"<html><body>502 Bad Gateway</body></html>"
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(body), body))


def declared_ten_gb(sock: socket.socket) -> None:
    _send_all_until_closed(sock, b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n" % TEN_GB, b"\0" * 65536, TEN_GB)


def endless_ten_gb(sock: socket.socket) -> None:
    """10 GB with no Content-Length: only a cap while reading stops it."""
    piece = b"\0" * 65536
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    _send_all_until_closed(sock, b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n"
                           b"Connection: close\r\n\r\n", chunk, TEN_GB)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(sock: socket.socket) -> None:
    """A 60-byte PNG whose header says 200000 x 200000 pixels (a 120 GB decode)."""
    body = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 200000, 200000, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                 % (len(body), body))


class HostileProxy:
    """Listens on 127.0.0.1; forwards to `upstream` (host, port) except for the paths in `hostile`."""

    def __init__(self, upstream_port: int, token: str = "",
                 hostile: dict[str, Callable[[socket.socket], None]] | None = None) -> None:
        self.upstream_port = upstream_port
        self.token = token
        self.hostile = dict(hostile or {})
        self.heads: list[str] = []
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(32)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()
        for sock in list(self._open):
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._open.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            head, rest = _read_head(client)
            if not head:
                return
            text = head.decode("latin-1")
            self.heads.append(text)
            path = text.split(" ", 2)[1]
            if self.token and f"authorization: bearer {self.token}".lower() not in text.lower():
                client.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            for prefix, answer in self.hostile.items():
                if path.startswith(prefix):
                    answer(client)
                    return
            self._forward(client, head, rest)
        except OSError:
            pass
        finally:
            client.close()

    def _forward(self, client: socket.socket, head: bytes, rest: bytes) -> None:
        if b"upgrade: websocket" not in head.lower():  # one request per connection: each one is inspected
            lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"connection:")]
            head = b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        self._open.append(upstream)
        upstream.sendall(head + rest)

        def pump(source: socket.socket, target: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    target.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (source, target):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(timeout=30)
        upstream.close()
