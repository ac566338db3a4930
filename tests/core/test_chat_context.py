"""What the model sees: the system prompt always, then the newest turns that fit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.chat_context import ContextError, fit_context, to_model_messages


def words(messages) -> int:
    """A stand-in tokenizer with a template: one token per word plus 3 per message for its markers."""
    return sum(len(m["content"].split()) + 3 for m in messages)


def conversation(turns: int, words_per_message: int = 10) -> list[dict]:
    messages = [{"role": "system", "content": "you help artists"}]
    for index in range(turns):
        messages.append({"role": "user", "content": " ".join([f"q{index}"] * words_per_message)})
        messages.append({"role": "assistant", "content": " ".join([f"a{index}"] * words_per_message)})
    messages.append({"role": "user", "content": "newest question"})
    return messages


def test_everything_kept_when_it_fits():
    messages = conversation(3)
    window = fit_context(messages, words, context_length=1000, max_new_tokens=100)
    assert list(window.messages) == messages
    assert window.left_out == 0 and window.notice == ""
    assert window.tokens == words(messages)


def test_oldest_turns_go_first_and_the_system_prompt_stays():
    messages = conversation(5)  # system 6 tokens, each message 13, newest 5
    window = fit_context(messages, words, context_length=100, max_new_tokens=40)  # room for 60
    kept = list(window.messages)
    assert kept[0] == messages[0]
    assert kept[-1] == messages[-1]
    assert window.tokens <= 60
    # whole turns go: the kept part starts with a user message and is the tail of the conversation
    assert kept[1]["role"] == "user" and kept[1:] == messages[-(len(kept) - 1):]
    assert window.left_out == len(messages) - len(kept)
    # and as few as possible went: one more turn would not have fitted
    assert words([messages[0]] + messages[-(len(kept) + 1):]) > 60
    assert f"{window.left_out} oldest messages are left out" in window.notice


def test_a_newest_message_too_long_for_the_context_is_a_clear_error():
    messages = [{"role": "system", "content": "persona"}, {"role": "user", "content": "word " * 500}]
    with pytest.raises(ContextError, match="shorten the message"):
        fit_context(messages, words, context_length=256, max_new_tokens=64)


def test_max_new_tokens_larger_than_the_context_is_a_clear_error():
    with pytest.raises(ContextError, match="lower it below 128"):
        fit_context(conversation(1), words, context_length=128, max_new_tokens=128)


def test_without_a_system_prompt_turns_still_go_oldest_first():
    messages = conversation(4)[1:]
    window = fit_context(messages, words, context_length=50, max_new_tokens=10)
    assert list(window.messages) == messages[-(len(window.messages)):]
    assert window.messages[0]["role"] == "user"


@dataclass
class Stored:
    role: str
    content: str
    status: str = "complete"


def test_to_model_messages_skips_failed_and_empty_replies_and_adds_the_persona():
    stored = [Stored("user", "hi"), Stored("assistant", "", "stopped"), Stored("assistant", "boom", "error"),
              Stored("user", "again"), Stored("assistant", "half", "stopped")]
    assert to_model_messages("Be brief.", stored) == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
        {"role": "user", "content": "again"}, {"role": "assistant", "content": "half"}]
    assert to_model_messages("  ", [Stored("user", "x")]) == [{"role": "user", "content": "x"}]


@settings(max_examples=150, deadline=None)
@given(turns=st.integers(0, 12), size=st.integers(1, 30), context=st.integers(20, 400), reply=st.integers(1, 100))
def test_fit_is_always_a_tail_with_the_system_prompt_within_budget(turns, size, context, reply):
    messages = conversation(turns, size)
    try:
        window = fit_context(messages, words, context, reply)
    except ContextError:
        assert words([messages[0], messages[-1]]) > context - reply  # only when even the minimum cannot fit
        return
    kept = list(window.messages)
    assert kept[0] == messages[0] and kept[-1] == messages[-1]
    assert window.tokens == words(kept) <= context - reply
    assert kept[1:] == messages[len(messages) - len(kept) + 1:]
    assert window.left_out == len(messages) - len(kept)
