"""What the chat model sees: the persona, then as many recent turns as fit in its context.

The system prompt is always kept; whole turns (a user message and the replies after it) are left
out oldest first until the prompt leaves room for the reply. The caller counts tokens (the engine's
tokenizer with the chat template applied), so this module stays free of any model library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Protocol, Sequence

ChatMessage = dict  # {"role": "user" | "assistant" | "system" | "tool", "content": str}
TokenCounter = Callable[[list[ChatMessage]], int]


class ContextError(ValueError):
    """The newest message alone does not fit in the model's context; the text says what to change."""


class _StoredMessage(Protocol):
    role: str
    content: str
    status: str


@dataclass(frozen=True)
class ContextWindow:
    """The messages to send, how many tokens they take, and how many older messages were left out."""

    messages: tuple[ChatMessage, ...]
    tokens: int
    budget: int
    left_out: int  # messages (not turns) left out of what the model sees

    @property
    def notice(self) -> str:
        if not self.left_out:
            return ""
        plural = "message is" if self.left_out == 1 else "messages are"
        return (f"The {self.left_out} oldest {plural} left out of what the model sees: the conversation is "
                f"longer than its context ({self.budget} tokens after room for the reply).")


def to_model_messages(system_prompt: str, stored: Iterable[_StoredMessage]) -> list[ChatMessage]:
    """Turn saved messages into the list a chat template takes.

    Failed replies are left out (they are not something the model said); stopped replies stay,
    as LM Studio keeps them, so "continue" works; empty ones are dropped.
    """
    messages: list[ChatMessage] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    for message in stored:
        if message.status == "error" or not message.content.strip():
            continue
        messages.append({"role": message.role, "content": message.content})
    return messages


def _turns(messages: Sequence[ChatMessage]) -> list[list[ChatMessage]]:
    """Group messages into turns: each user message starts a new one."""
    turns: list[list[ChatMessage]] = []
    for message in messages:
        if message["role"] == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def fit_context(messages: Sequence[ChatMessage], count_tokens: TokenCounter, context_length: int,
                max_new_tokens: int) -> ContextWindow:
    """Keep the leading system messages and the newest turns that fit in context - max_new_tokens."""
    budget = context_length - max_new_tokens
    if budget <= 0:
        raise ContextError(f"max new tokens ({max_new_tokens}) leaves no room for the conversation in this "
                           f"model's context of {context_length} tokens: lower it below {context_length}")
    head = 0
    while head < len(messages) and messages[head]["role"] == "system":
        head += 1
    system, turns = list(messages[:head]), _turns(messages[head:])

    def build(dropped: int) -> list[ChatMessage]:
        return system + [m for turn in turns[dropped:] for m in turn]

    tokens = count_tokens(build(0))
    if tokens <= budget:
        return ContextWindow(tuple(build(0)), tokens, budget, 0)
    # the count only shrinks as turns go, so search for the fewest turns to leave out
    low, high = 1, len(turns) - 1  # the newest turn is always kept
    best = None
    while low <= high:
        middle = (low + high) // 2
        counted = count_tokens(build(middle))
        if counted <= budget:
            best, high = (middle, counted), middle - 1
        else:
            low = middle + 1
    if best is None:
        newest = count_tokens(build(len(turns) - 1)) if turns else tokens
        raise ContextError(
            f"the newest message with the system prompt takes {newest} tokens, more than the {budget} this "
            f"model has room for (context {context_length} minus {max_new_tokens} for the reply): shorten the "
            "message or the system prompt, or lower max new tokens")
    dropped, counted = best
    left_out = sum(len(turn) for turn in turns[:dropped])
    return ContextWindow(tuple(build(dropped)), counted, budget, left_out)
