"""The OpenAI-compatible chat server as an EngineClient: its own lane, the same jobs and messages.

The lane owns the server connection (desktop.worker.client: "a remote client's lane owns its network
connection"), so a server that hangs holds up only this lane, never the model lane or the window.
ChatJob and EnhanceJob run through the very handlers the local lane uses (chat_jobs.make_chat_handler),
with a ServerChatEngine in place of a loaded model: the reply is saved to the same ChatStore as it
streams, Stop ends it as "stopped", an error as "error" with the partial reply kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject

from desktop.core.chat_server import ChatServer, ServerError, ServerModel
from desktop.core.messages import ChatJob, EnhanceJob, JobCancelled, Status, next_job_id
from desktop.worker.chat_jobs import make_chat_handler, make_enhance_handler
from desktop.worker.client import EngineClient
from desktop.worker.lane import JobContext, Worker

ENGINES_KEY = "server_engines"
MODELS_KEY = "server_models"


@dataclass(frozen=True)
class ChatModelsJob:
    """Ask the server which models it offers (GET /v1/models)."""

    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class ChatModels:
    """The server's models, in its order."""

    job_id: int
    models: tuple[ServerModel, ...]


def _no_memory_limit() -> int:
    return 1 << 62  # a server's model takes none of this computer's memory


class ServerClient(EngineClient):
    """Chat and Enhance on an OpenAI-compatible server chosen by the user; models from /v1/models."""

    def __init__(self, url: str, api_key: str, store, *, read_timeout_s: float | None = None,
                 parent: QObject | None = None) -> None:
        from desktop.core import chat_server

        # ValueError for a bad URL or key; the timeout: how long a silent server is waited for
        self.server = ChatServer(url, api_key, read_timeout_s=read_timeout_s or chat_server.READ_TIMEOUT_S)
        handlers = {
            ChatJob: make_chat_handler(store, _no_memory_limit, self._engine_for),
            EnhanceJob: make_enhance_handler(_no_memory_limit, self._engine_for),
            ChatModelsJob: self._list_models,
        }
        super().__init__(Worker(handlers), f"Chat server at {self.server.url}", parent)

    @property
    def url(self) -> str:
        return self.server.url

    def _engine_for(self, context: JobContext, model: str):
        from desktop.engine.server_chat import ServerChatEngine, model_context

        engines = context.resources.setdefault(ENGINES_KEY, {})
        if model not in engines:
            known = context.resources.get(MODELS_KEY, [])
            engines[model] = ServerChatEngine(self.server, model, model_context(known, model))
        return engines[model]

    def _list_models(self, context: JobContext) -> None:
        try:
            models = self.server.models(context.cancel.is_set)
        except ServerError:
            if context.cancel.is_set():
                raise JobCancelled() from None
            raise
        context.resources[MODELS_KEY] = models
        context.resources.pop(ENGINES_KEY, None)  # context lengths may have changed
        context.emit(ChatModels(context.job.job_id, tuple(models)))
        context.emit(Status(f"{self.server.url}: {len(models)} model{'s' * (len(models) != 1)}"))
