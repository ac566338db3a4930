"""One assistant reply, from saved history to saved answer: fit the context, stream, save as it comes.

The command line and the worker both use this, so a reply is saved the same way everywhere: in
batches while it streams, then finished as complete, stopped (cancelled) or error (and re-raised).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from desktop.core.chat_context import fit_context, to_model_messages
from desktop.core.chat_store import ChatStore, Message

if TYPE_CHECKING:  # a server's engine (desktop.engine.server_chat) takes this path without torch
    from desktop.engine.chat import ChatEngine


@dataclass(frozen=True)
class ReplyOutcome:
    """The saved reply and how it went."""

    message: Message
    finish_reason: str  # "stop" | "length" | "cancelled"
    notice: str  # set when older messages were left out of what the model saw
    prompt_tokens: int
    tokens: int
    first_piece_s: float | None
    seconds: float


def stream_reply(store: ChatStore, engine: "ChatEngine", conversation_id: int, *,
                 cancel: threading.Event | None = None, seed: int | None = None, tools=None,
                 on_start: Callable[[Message, str], None] | None = None,
                 on_piece: Callable[[int, str], None] | None = None) -> ReplyOutcome:
    """Answer the conversation's last message with its own persona and sampling settings.

    on_start(reply message, context notice) runs once the empty reply is saved; on_piece(message id,
    text) for every piece, on the calling thread. Raises ContextError (nothing saved) when the newest
    message cannot fit, and re-raises a failure of the model after saving the reply as "error".
    """
    conversation = store.conversation(conversation_id)
    history = to_model_messages(conversation.system_prompt, store.messages(conversation_id))
    window = fit_context(history, lambda messages: engine.count_tokens(messages, tools), engine.context_length,
                         conversation.max_new_tokens)
    reply = store.start_reply(conversation_id)
    if on_start is not None:
        on_start(reply, window.notice)
    stream = None
    try:
        stream = engine.stream(list(window.messages), temperature=conversation.temperature,
                               top_p=conversation.top_p, max_new_tokens=conversation.max_new_tokens, seed=seed,
                               tools=tools, cancel=cancel)
        for piece in stream:
            # shown before saved: a kill between the two never leaves saved text nobody saw
            if on_piece is not None:
                on_piece(reply.id, piece)
            store.append_to_message(reply.id, piece)
    except KeyboardInterrupt:
        if stream is not None:
            stream.close()
        store.finish_message(reply.id, "stopped")
        raise
    except BaseException as error:
        if stream is not None:
            stream.close()
        store.finish_message(reply.id, "error", error=f"{type(error).__name__}: {error}")
        raise
    status = "stopped" if stream.finish_reason == "cancelled" else "complete"
    return ReplyOutcome(store.finish_message(reply.id, status), stream.finish_reason, window.notice,
                        stream.prompt_tokens, stream.tokens, stream.first_piece_s, stream.seconds)
