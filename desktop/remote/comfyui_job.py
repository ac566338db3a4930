"""Run one graph on a ComfyUI server: listen, queue, follow progress and previews, fetch the images, or cancel.

The WebSocket opens before the graph is queued so no event of it is missed. The server sends events
for every client's jobs; only those naming our prompt id count (binary previews carry no id: they are
taken while our prompt is the one running). A keepalive ping detects a server that hangs or dies: the
job then fails, saying so, instead of waiting for ever. Cancel takes the prompt out of the server's
queue or interrupts it, and returns at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from desktop.core.comfyui_graph import Graph
from desktop.core.messages import JobCancelled
from desktop.remote.comfyui_connection import WS_MESSAGE_LIMIT, ComfyUIConnection, ServerError, decode_preview

POLL_S = 0.2  # how often a waiting job looks at its cancel flag


@dataclass
class JobEvents:
    """Where a running job reports (all optional); called on the thread that runs the job."""

    progress: Callable[[int, int], None] = lambda step, total: None
    preview: Callable[[object], None] = lambda image: None  # PIL image
    status: Callable[[str], None] = lambda text: None


def _ws_url(connection: ComfyUIConnection) -> str:
    url = connection.address.url
    scheme = "wss" if url.startswith("https://") else "ws"
    return f"{scheme}://{url.split('://', 1)[1]}/ws?clientId={connection.client_id}"


class _RedactingLogger(logging.LoggerAdapter):
    """websockets logs request headers at DEBUG: the Authorization header must not reach a log."""

    def __init__(self, address) -> None:
        super().__init__(logging.getLogger("desktop.remote.websocket"), {})
        self.address = address

    def log(self, level, msg, *args, **kwargs) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            kwargs.pop("extra", None)
            self.logger.log(level, "%s", self.address.redact(text), **kwargs)


def open_events(connection: ComfyUIConnection):
    """The server's event stream for this client (websockets' sync client, with keepalive pings)."""
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    address = connection.address
    headers = {"Authorization": f"Bearer {address.token}"} if address.token else {}
    try:
        return connect(_ws_url(connection), additional_headers=headers, open_timeout=address.connect_timeout_s,
                       ping_interval=address.keepalive_s / 2, ping_timeout=address.keepalive_s / 2,
                       close_timeout=2, max_size=WS_MESSAGE_LIMIT, proxy=None, compression=None,
                       user_agent_header="Atelier", logger=_RedactingLogger(address))
    except InvalidStatus as error:
        status = error.response.status_code
        hint = ": the token is wrong or missing" if status in (401, 403) else ""
        raise ServerError(f"{connection.name} refused the live connection (/ws, HTTP {status}){hint}") from None
    except TimeoutError:
        raise ServerError(f"{connection.name} did not open the live connection (/ws) within "
                          f"{address.connect_timeout_s:g} s: it may be hung") from None
    except (OSError, WebSocketException) as error:
        raise ServerError(f"could not open the live connection to {connection.name} (/ws): "
                          f"{address.redact(str(error))[:200]}") from None


def run_graph(connection: ComfyUIConnection, graph: Graph, cancel: threading.Event, events: JobEvents) -> list:
    """Queue `graph`, wait for it, return its images (PIL, in batch order). Raises ServerError or JobCancelled."""
    with open_events(connection) as stream:
        if cancel.is_set():
            raise JobCancelled()
        prompt_id = connection.queue(graph.nodes)
        follower = _Follower(connection, graph, prompt_id, events)
        try:
            follower.follow(stream, cancel)
        except (JobCancelled, KeyboardInterrupt):  # Stop in the window, Ctrl+C on the command line
            _cancel_on_server(connection, prompt_id)
            raise
    return fetch_images(connection, graph, prompt_id)


def _cancel_on_server(connection: ComfyUIConnection, prompt_id: str) -> None:
    try:
        connection.cancel(prompt_id)
    except ServerError as error:  # the job is cancelled here either way; say what the server may still do
        raise ServerError(f"cancelled here, but {connection.name} could not be told to stop: {error}") from None


class _Follower:
    """Reads the event stream until our prompt ends, turning its events into progress and previews."""

    def __init__(self, connection: ComfyUIConnection, graph: Graph, prompt_id: str, events: JobEvents) -> None:
        self.connection, self.graph, self.prompt_id, self.events = connection, graph, prompt_id, events
        self.running = False
        self.sampler_index = 0
        self.said_waiting = False

    def follow(self, stream, cancel: threading.Event) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            if cancel.is_set():
                raise JobCancelled()
            try:
                message = stream.recv(timeout=POLL_S)
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                raise ServerError(self._lost(closed)) from None
            if isinstance(message, bytes):
                if self.running:
                    image = decode_preview(message)
                    if image is not None:
                        self.events.preview(image)
                continue
            if self._on_event(message):
                return

    def _lost(self, closed) -> str:
        reason = closed.rcvd or closed.sent
        if reason is not None and "keepalive" in (reason.reason or ""):
            return (f"{self.connection.name} stopped answering during the job (no reply within "
                    f"{self.connection.address.keepalive_s:g} s): it may be hung or overloaded")
        return (f"lost the connection to {self.connection.name} during the job: the server stopped, restarted "
                "or the network dropped. Try again when it is back")

    def _on_event(self, text: str) -> bool:
        """Handle one JSON event; True when our prompt has ended well."""
        try:
            event = json.loads(text)
        except ValueError:
            return False  # a garbled event is skipped; the end of the job is still recognised
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            return False
        kind, data = event.get("type"), event["data"]
        if kind == "status" and not self.running and not self.said_waiting:
            remaining = (data.get("status") or {}).get("exec_info", {}).get("queue_remaining") \
                if isinstance(data.get("status"), dict) else None
            if isinstance(remaining, int) and remaining > 1:
                self.said_waiting = True
                self.events.status(f"Waiting for {self.connection.name}: {remaining - 1} job(s) ahead there")
            return False
        if data.get("prompt_id") != self.prompt_id:
            return False
        if kind == "execution_start":
            self.running = True
        elif kind == "executing":
            node = data.get("node")
            if node is None:
                return True  # the server has put the results into its history
            self.running = True
            if node in self.graph.sampler_nodes:
                self.sampler_index = self.graph.sampler_nodes.index(node)
        elif kind == "progress":
            self.running = True
            node = data.get("node")
            if node in self.graph.sampler_nodes:
                self.sampler_index = self.graph.sampler_nodes.index(node)
            value, top = data.get("value"), data.get("max")
            if isinstance(value, int) and isinstance(top, int) and top > 0:
                count = len(self.graph.sampler_nodes)
                self.events.progress(self.sampler_index * top + value, count * top)
        elif kind == "execution_error":
            node_type = str(data.get("node_type") or "a node")[:100]
            message = str(data.get("exception_message") or "no reason given").strip()[:400]
            raise ServerError(f"{self.connection.name} could not run the job: {node_type} failed: {message}")
        elif kind == "execution_interrupted":
            raise ServerError(f"the job was stopped on {self.connection.name} (someone interrupted it there)")
        return False


def fetch_images(connection: ComfyUIConnection, graph: Graph, prompt_id: str) -> list:
    entry = {}
    for _ in range(25):  # the history entry is written before the end event; allow for a slow disk
        entry = connection.history(prompt_id)
        if entry:
            break
        time.sleep(0.2)
    outputs = entry.get("outputs") if isinstance(entry.get("outputs"), dict) else {}
    images = []
    for node in graph.output_nodes:
        found = outputs.get(node) if isinstance(outputs.get(node), dict) else {}
        for reference in (found.get("images") or [])[:16]:
            if isinstance(reference, dict):
                images.append(connection.view(reference))
    if not images:
        raise ServerError(f"{connection.name} finished the job but listed no images for it")
    return images
