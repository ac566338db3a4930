"""Chat jobs on the model lane: replies that stream into the chat history, and prompt Enhance.

They share the lane (and `JobContext.resources`) with the image jobs, so one thread owns every model.
Before a model loads, its memory is estimated and compared with what is free; both the chat and the
image model stay loaded when they fit, otherwise the least recently used one is unloaded and the
status bar says so (residency.py). Tokens are batched so the GUI gets at most one message per
TOKEN_INTERVAL_S however fast the model is; the first piece goes out at once.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Callable

from desktop.core.messages import (
    ChatEnded,
    ChatJob,
    ChatStarted,
    EnhanceJob,
    EnhanceResult,
    GenerateJob,
    JobCancelled,
    LoadModelJob,
    Loading,
    Status,
    Token,
)
from desktop.worker.image_jobs import ENGINE_KEY as IMAGE_ENGINE_KEY
from desktop.worker.lane import Handler, JobContext
from desktop.worker.residency import Residency

CHAT_ENGINE_KEY = "chat_engine"
RESIDENCY_KEY = "residency"
TOKEN_INTERVAL_S = 0.03  # ~33 messages a second at most: smooth to read, cheap to repaint
TOOLS_LEFT_OUT = "The canvas tools were left out: this model's context is too small to list them."

MemoryProbe = Callable[[], int]


class TokenBatcher:
    """Turns streamed pieces into Token messages: the first at once, then at most one per interval."""

    def __init__(self, emit: Callable[[object], None], job_id: int, interval_s: float = TOKEN_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.emit, self.job_id, self.interval_s, self.clock = emit, job_id, interval_s, clock
        self._message_id: int | None = None
        self._pending: list[str] = []
        self._offset = 0  # characters of the reply already sent
        self._last = float("-inf")

    def add(self, message_id: int, text: str) -> None:
        if message_id != self._message_id:
            self.flush()
            self._message_id, self._offset = message_id, 0
        self._pending.append(text)
        if self.clock() - self._last >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        if not self._pending or self._message_id is None:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self.emit(Token(self.job_id, self._message_id, text, self._offset))
        self._offset += len(text)
        self._last = self.clock()


# ------------------------------------------------------------------ memory
def residency(context: JobContext) -> Residency:
    found = context.resources.get(RESIDENCY_KEY)
    if found is None:
        found = context.resources[RESIDENCY_KEY] = Residency()
    return found


def _folder_bytes(path: str) -> int:
    from desktop.core.models import folder_size

    target = Path(path)
    return target.stat().st_size if target.is_file() else folder_size(target)


def image_memory(path: str, family: str, width: int = 512, height: int = 512) -> int:
    """Bytes an image model takes loaded, at a size; the files' size when the headers cannot be read."""
    from desktop.core.memory import estimate

    try:
        return estimate(path, family, width, height).total
    except (OSError, ValueError, KeyError):  # CheckpointError is a ValueError
        return _folder_bytes(path) if Path(path).exists() else 0


def chat_memory(path: str) -> int:
    from desktop.engine.chat import estimate_chat_memory

    try:
        return estimate_chat_memory(path)
    except (OSError, ValueError, KeyError):
        return _folder_bytes(path) if Path(path).exists() else 0


def unload(context: JobContext, slot: str) -> None:
    if slot == "image":
        engine = context.resources.get(IMAGE_ENGINE_KEY)
        if engine is not None:
            engine.unload()
    else:
        engine = context.resources.pop(CHAT_ENGINE_KEY, None)
        if engine is not None:
            gc.unfreeze()  # the model's objects were frozen after loading; they must be collectable now
            engine.unload()
            gc.collect()
            gc.freeze()
    residency(context).unloaded(slot)


def make_room(context: JobContext, slot: str, path: str, needed: int, available: MemoryProbe) -> None:
    """Unload least recently used models until `needed` bytes fit; say so in the status bar."""
    plan = residency(context).make_room(slot, path, needed, available())
    for resident in plan.unload:
        unload(context, resident.slot)
    text = plan.describe(path)
    if text:
        context.emit(Status(text))


def with_residency(handler: Handler, available: MemoryProbe) -> Handler:
    """An image handler that first makes room for its model and afterwards records what is loaded."""

    def run(context: JobContext) -> None:
        job = context.job
        target = str(Path(job.model_path).resolve())
        engine = context.resources.get(IMAGE_ENGINE_KEY)
        loaded = engine.loaded.path if engine is not None and engine.loaded is not None else None
        needed = 0
        if loaded != target:
            params = getattr(job, "params", None)
            size = (params.width, params.height * params.batch_size) if params is not None else (
                getattr(job, "width", 512), getattr(job, "height", 512))
            needed = image_memory(target, job.family, *size)
            make_room(context, "image", target, needed, available)
        try:
            handler(context)
        finally:
            engine = context.resources.get(IMAGE_ENGINE_KEY)
            places = residency(context)
            if engine is None or engine.loaded is None:
                places.unloaded("image")
            elif (places.get("image") is None or places.get("image").path != engine.loaded.path):
                places.loaded("image", engine.loaded.path, needed or image_memory(engine.loaded.path, engine.loaded.family))
            else:
                places.touch("image")

    return run


# ------------------------------------------------------------------ chat
def chat_engine(context: JobContext, model_path: str, available: MemoryProbe):
    """The lane's ChatEngine for this folder: kept between jobs, loaded (room made first) when it changes."""
    from desktop.worker.engine_import import CHAT_MODULES, import_engine_modules

    import_engine_modules(CHAT_MODULES)  # torch and transformers without stalling the window
    from desktop.engine.chat import ChatEngine

    folder = str(Path(model_path).resolve())
    engine = context.resources.get(CHAT_ENGINE_KEY)
    if engine is not None and engine.path == folder:
        residency(context).touch("chat")
        return engine
    make_room(context, "chat", folder, chat_memory(folder), available)
    unload(context, "chat")  # the one being replaced
    name = Path(folder).name
    context.emit(Loading(context.job.job_id, f"Loading chat model {name}…"))
    context.emit(Status(f"Loading chat model {name}…"))
    engine = ChatEngine.load(folder, on_status=lambda text: context.emit(Status(text)))  # a GGUF's first start says so
    context.resources[CHAT_ENGINE_KEY] = engine
    residency(context).loaded("chat", folder, engine.memory_bytes())
    gc.collect()
    gc.freeze()  # long-lived weights out of the collector's way: a full collection stalls the GUI (facts.md)
    warning = f" ({engine.warning})" if engine.warning else ""
    context.emit(Status(f"Chat model {name} loaded on {engine.device}{warning}"))
    return engine


EngineFor = Callable[[JobContext, str], object]  # (context, model path or server model name) -> a chat engine


def make_chat_handler(store, available: MemoryProbe, engine_for: EngineFor | None = None) -> Handler:
    """Answer ChatJobs from the history in `store` (a ChatStore the dock shares), saving as it streams.

    `engine_for` gives the engine for a job's model: by default this computer's (loaded on this lane);
    a server's lane passes its own (desktop.worker.server_client), and the rest is the same.
    """
    if engine_for is None:
        engine_for = lambda context, path: chat_engine(context, path, available)  # noqa: E731

    def run_chat(context: JobContext) -> None:
        from desktop.core.chat_context import ContextError
        from desktop.core.tool_calls import TOOLS
        from desktop.engine.chat_reply import stream_reply

        job: ChatJob = context.job
        engine = engine_for(context, job.model_path)
        if context.cancel.is_set():
            raise JobCancelled()
        batcher = TokenBatcher(context.emit, job.job_id)
        started: list[int] = []
        extra_notice = [""]

        def on_start(message, notice: str) -> None:
            started.append(message.id)
            notice = " ".join(part for part in (notice, extra_notice[0]) if part)
            context.emit(ChatStarted(job.job_id, job.conversation_id, message.id, notice, engine.warning))

        def reply(tools):
            return stream_reply(store, engine, job.conversation_id, cancel=context.cancel, seed=job.seed,
                                tools=tools, on_start=on_start, on_piece=batcher.add)

        try:
            try:
                outcome = reply(TOOLS if job.use_tools else None)
            except ContextError:
                if not job.use_tools:
                    raise
                extra_notice[0] = TOOLS_LEFT_OUT  # the conversation may still fit without the tool list
                outcome = reply(None)
        except BaseException:
            batcher.flush()
            if started:
                context.emit(ChatEnded(job.job_id, job.conversation_id, started[0], "error"))
            raise
        batcher.flush()
        context.emit(ChatEnded(job.job_id, job.conversation_id, outcome.message.id, outcome.message.status,
                               outcome.finish_reason, outcome.tokens, outcome.seconds, outcome.first_piece_s))
        if outcome.finish_reason == "cancelled":
            raise JobCancelled()  # the lane reports Cancelled; the partial reply is saved as "stopped"

    return run_chat


def make_enhance_handler(available: MemoryProbe, engine_for: EngineFor | None = None) -> Handler:
    """Rewrite a prompt for an image-model family; the same seed gives the same rewrite."""
    if engine_for is None:
        engine_for = lambda context, path: chat_engine(context, path, available)  # noqa: E731

    def run_enhance(context: JobContext) -> None:
        from desktop.core.prompt_enhance import ENHANCE_SAMPLING, enhance_messages, extract_prompt

        job: EnhanceJob = context.job
        messages = enhance_messages(job.prompt, job.family)  # an empty prompt fails before any loading
        engine = engine_for(context, job.model_path)
        stream = engine.stream(messages, seed=job.seed, cancel=context.cancel, **ENHANCE_SAMPLING)
        reply = "".join(stream)
        if stream.finish_reason == "cancelled":
            raise JobCancelled()
        enhanced = extract_prompt(reply)
        if not enhanced:
            raise ValueError("the chat model gave no usable prompt: try Enhance again with another seed, "
                             "or choose another chat model")
        context.emit(EnhanceResult(job.job_id, job.prompt, enhanced, job.family, job.seed, reply))

    return run_enhance


def model_lane_handlers(image_handlers: dict, store, available_memory: MemoryProbe | None = None) -> dict:
    """Every handler for the one lane: image handlers wrapped with memory accounting, plus chat and Enhance.

    `available_memory()` gives the bytes free now (default: RAM without swapping, from psutil).
    """
    if available_memory is None:
        from desktop.core.memory import available_memory
    handlers = {job_type: with_residency(handler, available_memory) if job_type in (GenerateJob, LoadModelJob)
                else handler for job_type, handler in image_handlers.items()}
    handlers[ChatJob] = make_chat_handler(store, available_memory)
    handlers[EnhanceJob] = make_enhance_handler(available_memory)
    return handlers
