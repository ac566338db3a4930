"""One ComfyUI server over HTTP and WebSocket: requests with timeouts and size caps, answers checked.

Endpoints used (ComfyUI's server.py): /system_stats (is it ComfyUI?), /object_info/{node} (nodes and the
model files they list), /upload/image, /prompt (queue a graph; 400 with node_errors when invalid),
/ws?clientId= (progress, binary previews, the end of a prompt), /history/{id} and /view (results),
/queue delete and /interrupt (cancel). Redirects are not followed: the token goes to the chosen host only.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid

import requests

from desktop.core.image_io import ImageLoadError, load_image_bytes
from desktop.core.server_address import ServerAddress

log = logging.getLogger(__name__)

JSON_LIMIT = 32 * 1024 * 1024  # /object_info of a server with many custom nodes runs to a few MB
IMAGE_LIMIT = 256 * 1024 * 1024  # a 4096 x 4096 16-bit PNG stays well below this
WS_MESSAGE_LIMIT = 16 * 1024 * 1024  # preview frames are small JPEGs; text events are small JSON
TRANSFER_LIMIT_S = 300.0  # one download, however slowly the bytes trickle in

# what a model list is called in words, and the loader node whose input lists it
MODEL_LISTS = {
    "checkpoint": ("CheckpointLoaderSimple", "ckpt_name"),
    "LoRA": ("LoraLoader", "lora_name"),
    "ControlNet": ("ControlNetLoader", "control_net_name"),
    "VAE": ("VAELoader", "vae_name"),
}


class ServerError(RuntimeError):
    """Something went wrong talking to the server; the message says what, and what to try."""


class NotOnServer(ServerError):
    """A checkpoint, LoRA or VAE the job names is not on the server; the message lists what it has."""


def _snippet(data: bytes) -> str:
    text = data[:60].decode("utf-8", "replace").replace("\n", " ").strip()
    return f" (it starts {text!r})" if text else " (it was empty)"


def combo_options(spec) -> list[str]:
    """The choices of a COMBO input in /object_info: old form [[a, b], {...}], new form ["COMBO", {"options": [...]}]."""
    if isinstance(spec, list) and spec:
        if isinstance(spec[0], list):
            return [str(item) for item in spec[0] if isinstance(item, (str, int, float))]
        if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
            return [str(item) for item in spec[1].get("options") or [] if isinstance(item, (str, int, float))]
    return []


class ComfyUIConnection:
    """HTTP requests to one ComfyUI server; not thread-safe: one lane owns it."""

    def __init__(self, address: ServerAddress) -> None:
        self.address = address
        self.name = address.name
        self.client_id = uuid.uuid4().hex
        self.session = requests.Session()
        # straight to the server the user named, like the WebSocket: no proxy or .netrc from the environment
        self.session.trust_env = False
        self.session.headers["User-Agent"] = "Atelier"
        if address.token:
            self.session.headers["Authorization"] = f"Bearer {address.token}"

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ plumbing
    def _request(self, method: str, path: str, *, limit: int, **kwargs) -> bytes:
        url = self.address.url + path
        timeout = (self.address.connect_timeout_s, self.address.read_timeout_s)
        try:
            response = self.session.request(method, url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise ServerError(f"{self.name} did not accept a connection within {self.address.connect_timeout_s:g} s: "
                              "check the address and that the server is running") from None
        except requests.exceptions.ReadTimeout:
            raise ServerError(f"{self.name} did not answer {path} within {self.address.read_timeout_s:g} s: "
                              "it may be hung or overloaded") from None
        except requests.exceptions.RequestException as error:
            raise ServerError(f"could not reach {self.name}: {self._reason(error)}. Check the address and "
                              "that the server is running") from None
        with response:
            self._check_status(response, path)
            return self._read(response, path, limit)

    def _reason(self, error: Exception) -> str:
        text = str(error)
        for marker, words in (("Connection refused", "nothing is listening there (connection refused)"),
                              ("Name or service not known", "the host name is not known"),
                              ("No address associated", "the host name is not known"),
                              ("timed out", "the connection timed out"),
                              ("RemoteDisconnected", "the server closed the connection"),
                              ("Connection reset", "the server reset the connection"),
                              ("CERTIFICATE_VERIFY_FAILED", "its HTTPS certificate is not trusted")):
            if marker in text:
                return words
        return self.address.redact(text.splitlines()[0][:200] if text else error.__class__.__name__)

    def _check_status(self, response, path: str) -> None:
        status = response.status_code
        if status < 300:
            return
        if status in (401, 403):
            hint = "the token is wrong or missing" if status == 401 else "the token may not do this"
            raise ServerError(f"{self.name} refused {path} (HTTP {status}): {hint}. Check the token in "
                              "Settings → Image engine")
        if 300 <= status < 400:
            where = response.headers.get("Location", "")[:200]
            raise ServerError(f"{self.name} redirected {path} to {where or 'another address'}: "
                              "enter the final address in Settings → Image engine")
        if status == 400 and path == "/prompt":
            return  # the body holds node_errors; queue() reads them
        if status == 404:
            raise ServerError(f"{self.name} has no {path.split('?')[0]} (HTTP 404): is this a ComfyUI server?")
        raise ServerError(f"{self.name} answered {path.split('?')[0]} with HTTP {status}")

    def _read(self, response, path: str, limit: int) -> bytes:
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise ServerError(f"{self.name} sent {int(length) / 1e6:,.0f} MB for {path.split('?')[0]}; Atelier "
                              f"accepts at most {limit / 1e6:.0f} MB there. Is this a ComfyUI server?")
        chunks, total, start = [], 0, time.monotonic()
        try:
            for chunk in response.iter_content(1 << 16):
                total += len(chunk)
                if total > limit:
                    raise ServerError(f"{self.name} sent more than {limit / 1e6:.0f} MB for {path.split('?')[0]}; "
                                      "Atelier stopped reading. Is this a ComfyUI server?")
                if time.monotonic() - start > TRANSFER_LIMIT_S:
                    raise ServerError(f"{self.name} took more than {TRANSFER_LIMIT_S:.0f} s to send "
                                      f"{path.split('?')[0]}; Atelier stopped waiting")
                chunks.append(chunk)
        except requests.exceptions.RequestException as error:
            raise ServerError(f"the connection to {self.name} broke while reading {path.split('?')[0]}: "
                              f"{self._reason(error)}") from None
        return b"".join(chunks)

    def _json(self, data: bytes, path: str, kind: type = dict):
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise ServerError(f"{self.name} answered {path.split('?')[0]} with something that is not JSON"
                              f"{_snippet(data)}: is this the address of a ComfyUI server?") from None
        if not isinstance(value, kind):
            raise ServerError(f"{self.name} answered {path.split('?')[0]} with JSON of an unexpected shape: "
                              "is this a ComfyUI server (and a recent one)?")
        return value

    def get_json(self, path: str, kind: type = dict):
        return self._json(self._request("GET", path, limit=JSON_LIMIT), path, kind)

    def post_json(self, path: str, body: dict, expect_json: bool = True):
        data = self._request("POST", path, limit=JSON_LIMIT, json=body)
        return self._json(data, path) if expect_json else None

    # ------------------------------------------------------------------ what the server is and has
    def system_stats(self) -> dict:
        """The server's own description; a server that is not ComfyUI fails here, clearly."""
        stats = self.get_json("/system_stats")
        if not isinstance(stats.get("system"), dict):
            raise ServerError(f"{self.name} answered /system_stats, but not as ComfyUI does: is this a ComfyUI server?")
        return stats

    def version(self) -> str:
        return str(self.system_stats()["system"].get("comfyui_version", "unknown"))[:40]

    def node_info(self, node: str) -> dict | None:
        """/object_info for one node type, or None when the server does not have it."""
        info = self.get_json(f"/object_info/{node}")
        found = info.get(node)
        return found if isinstance(found, dict) else None

    def missing_nodes(self, nodes: list[str]) -> list[str]:
        return [node for node in nodes if self.node_info(node) is None]

    def models(self, kind: str) -> list[str]:
        """The model files of one kind ("checkpoint", "LoRA", "ControlNet") the server lists."""
        node, field = MODEL_LISTS[kind]
        info = self.node_info(node)
        if info is None:
            raise ServerError(f"{self.name} has no {node} node, so it cannot load a {kind}")
        inputs = info.get("input") if isinstance(info.get("input"), dict) else {}
        for group in ("required", "optional"):
            section = inputs.get(group)
            if isinstance(section, dict) and field in section:
                return combo_options(section[field])
        return []

    # ------------------------------------------------------------------ a job
    def upload_image(self, png: bytes, name: str) -> str:
        """Upload a PNG to the server's temp folder (emptied when it restarts); returns the name LoadImage reads."""
        answer = self._json(self._request("POST", "/upload/image", limit=JSON_LIMIT,
                                          files={"image": (name, png, "image/png")},
                                          data={"type": "temp", "overwrite": "true"}), "/upload/image")
        stored = answer.get("name")
        if not isinstance(stored, str) or not stored:
            raise ServerError(f"{self.name} did not say where it stored the uploaded image")
        subfolder = answer.get("subfolder") or ""
        return f"{subfolder}/{stored} [temp]" if subfolder else f"{stored} [temp]"

    def queue(self, graph: dict) -> str:
        """Queue a graph for this client; returns its prompt id, or raises with the server's node errors in words."""
        answer = self.post_json("/prompt", {"prompt": graph, "client_id": self.client_id})
        prompt_id = answer.get("prompt_id")
        if isinstance(prompt_id, str) and prompt_id and not answer.get("error"):
            return prompt_id
        raise ServerError(f"{self.name} refused the job: {describe_errors(answer, graph)}")

    def cancel(self, prompt_id: str) -> None:
        """Take the prompt out of the server's queue if it waits there, and interrupt it if it runs."""
        self._request("POST", "/queue", limit=JSON_LIMIT, json={"delete": [prompt_id]})
        self._request("POST", "/interrupt", limit=JSON_LIMIT, json={"prompt_id": prompt_id})

    def history(self, prompt_id: str) -> dict:
        answer = self.get_json(f"/history/{prompt_id}")
        entry = answer.get(prompt_id)
        return entry if isinstance(entry, dict) else {}

    def view(self, reference: dict):
        """A result image (PIL, RGB) named by a history entry; its size is checked before it is decoded."""
        from PIL import Image

        query = {key: str(reference.get(key, "")) for key in ("filename", "subfolder", "type")}
        if not query["filename"]:
            raise ServerError(f"{self.name} listed a result without a file name")
        data = self._request("GET", "/view", limit=IMAGE_LIMIT, params=query)
        try:
            pixels = load_image_bytes(data, f"the image {self.name} sent")
        except ImageLoadError as error:
            raise ServerError(str(error)) from None
        return Image.fromarray(pixels[..., :3])


def decode_preview(data: bytes):
    """A binary /ws frame (event type, then image type and JPEG/PNG bytes) as a PIL image, or None."""
    from PIL import Image

    if len(data) < 8:
        return None
    event = int.from_bytes(data[:4], "big")
    if event == 1:  # PREVIEW_IMAGE: 4-byte format code (1 JPEG, 2 PNG), then the image
        payload = data[8:]
    elif event == 4:  # PREVIEW_IMAGE_WITH_METADATA: 4-byte JSON length, JSON, then the image
        length = int.from_bytes(data[4:8], "big")
        payload = data[8 + length:]
    else:
        return None
    try:
        pixels = load_image_bytes(payload, "a preview")
    except ImageLoadError:
        return None  # a damaged preview is skipped; the result still comes
    return Image.fromarray(pixels[..., :3])


def describe_errors(answer: dict, graph: dict) -> str:
    """ComfyUI's /prompt error and node_errors in one sentence: which node, which input, what is wrong."""
    parts = []
    node_errors = answer.get("node_errors") if isinstance(answer.get("node_errors"), dict) else {}
    for node_id, found in list(node_errors.items())[:5]:
        node_type = (found.get("class_type") if isinstance(found, dict) else None) or \
            graph.get(str(node_id), {}).get("class_type", f"node {node_id}")
        for error in (found.get("errors") or [])[:3] if isinstance(found, dict) else []:
            if not isinstance(error, dict):
                continue
            details = str(error.get("details") or "")[:300]
            message = str(error.get("message") or "error")[:200]
            parts.append(f"{node_type}: {message}" + (f" ({details})" if details else ""))
    error = answer.get("error")
    if not parts and isinstance(error, dict):
        message = str(error.get("message") or "")[:300]
        details = str(error.get("details") or "")[:300]
        kind = str(error.get("type") or "")
        missing = re.search(r"node (\S+) does not exist", message)
        if kind in ("invalid_prompt", "missing_node_type") and missing:
            parts.append(f"it does not have a node this job needs ({missing.group(1)}); install it on the server")
        else:
            parts.append(message + (f": {details}" if details and details not in message else ""))
    elif not parts and isinstance(error, str):
        parts.append(error[:300])
    return "; ".join(parts) or "it gave no reason"
