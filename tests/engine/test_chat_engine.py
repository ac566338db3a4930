"""The chat engine on a tiny real Qwen2 model: streaming, stopping, failures, templates, memory."""

from __future__ import annotations

import shutil
import threading

import pytest
import torch

from desktop.core.chat_context import fit_context
from desktop.core.tool_calls import TOOLS
from desktop.engine.chat import ChatEngine, ChatModelError, estimate_chat_memory
from desktop.engine.tiny_models import build_chat_lm

MESSAGES = [{"role": "system", "content": "You help artists."}, {"role": "user", "content": "Describe a fox."}]


@pytest.fixture(scope="module")
def engine(tiny_chat):
    return ChatEngine.load(tiny_chat, device="cpu")


def _in_thread(work, timeout: float = 60.0):
    """Run work() on a thread; fail (instead of hanging the suite) if it does not end in time."""
    result: dict = {}

    def run():
        try:
            result["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s: the stream hung"
    return result


def _plain_generate(engine, **kwargs) -> str:
    inputs = engine.encode(MESSAGES)
    with torch.inference_mode():
        output = engine.model.generate(**inputs, eos_token_id=engine.eos_token_ids,
                                       pad_token_id=engine.tokenizer.pad_token_id, **kwargs)
    new = output[0, inputs["input_ids"].shape[1]:].tolist()
    return engine.tokenizer.decode([t for t in new if t not in engine.eos_token_ids], skip_special_tokens=False)


def test_loads_with_its_template_and_knows_its_context(engine, tiny_chat):
    assert engine.warning == "" and engine.device == "cpu"
    assert engine.context_length == 2048
    direct = engine.tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=True)
    assert engine.count_tokens(MESSAGES) == len(direct["input_ids"])
    assert engine.count_tokens(MESSAGES, tools=TOOLS) > engine.count_tokens(MESSAGES) + 50  # tools are in the prompt


def test_greedy_stream_equals_plain_generate_in_order_and_in_full(engine):
    pieces = list(engine.stream(MESSAGES, temperature=0, max_new_tokens=24))
    assert len(pieces) > 1  # streamed piece by piece, not in one lump at the end
    assert "".join(pieces) == _plain_generate(engine, do_sample=False, max_new_tokens=24)


def test_seeded_sampling_repeats_and_matches_plain_generate(engine):
    first = engine.stream(MESSAGES, temperature=0.9, top_p=0.95, max_new_tokens=30, seed=1234)
    text = "".join(first)
    assert first.finish_reason in ("stop", "length")
    assert engine.reply(MESSAGES, temperature=0.9, top_p=0.95, max_new_tokens=30, seed=1234) == text
    torch.manual_seed(1234)
    assert _plain_generate(engine, do_sample=True, temperature=0.9, top_p=0.95, max_new_tokens=30) == text
    others = {engine.reply(MESSAGES, temperature=0.9, max_new_tokens=30, seed=seed) for seed in (1, 2, 3)}
    assert len(others | {text}) > 1  # the seed matters


def test_replies_never_contain_the_models_control_tokens(engine):
    """A small model sometimes samples a turn marker (<|im_start|>): control text, never shown or saved."""
    controls = [t.content for t in engine.tokenizer.added_tokens_decoder.values() if "tool_call" not in t.content]
    seed = 5  # the tiny model samples <|im_start|> as its 41st token with this seed
    text = engine.reply(MESSAGES, temperature=1.0, max_new_tokens=42, seed=seed)
    assert not any(token in text for token in controls), text
    torch.manual_seed(seed)
    sampled_one = "<|im_start|>" in _plain_generate(engine, do_sample=True, temperature=1.0, top_p=0.9,
                                                    max_new_tokens=42)
    assert sampled_one, "no control token was sampled: pick another seed, or this test proves nothing"


def test_pieces_arrive_while_generation_is_still_running(engine):
    stream = engine.stream(MESSAGES, temperature=1.0, seed=7, max_new_tokens=80)
    first = next(iter(stream))
    tokens_at_first_piece = stream.tokens
    rest = list(stream)
    assert first and tokens_at_first_piece < stream.tokens
    assert stream.first_piece_s is not None and stream.first_piece_s <= stream.seconds
    assert len(rest) > 5


def test_stop_ends_within_one_token_and_keeps_the_partial_reply(engine):
    cancel = threading.Event()
    stream = engine.stream(MESSAGES, temperature=1.0, seed=3, max_new_tokens=500, cancel=cancel)
    received = []

    def consume():
        for piece in stream:
            received.append(piece)
            if len(received) == 3:
                cancel.set()
                received.append(("tokens when stopped", stream.tokens))

    outcome = _in_thread(consume)
    assert "error" not in outcome
    marker = next(item for item in received if isinstance(item, tuple))
    assert stream.tokens <= marker[1] + 1  # at most the token already being made
    assert stream.finish_reason == "cancelled"
    assert "".join(p for p in received if isinstance(p, str))


def test_closing_the_stream_early_stops_generation(engine):
    stream = engine.stream(MESSAGES, temperature=1.0, seed=5, max_new_tokens=500)
    iterator = iter(stream)
    next(iterator)
    stream.close()
    assert stream.tokens < 500


class _FailingEvent(threading.Event):
    """A cancel event whose check raises after some tokens: a failure from inside generate."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.calls, self.after = 0, after

    def is_set(self) -> bool:
        self.calls += 1
        if self.calls > self.after:
            raise RuntimeError("simulated device failure mid-reply")
        return False


def test_an_exception_inside_generate_ends_the_stream_with_that_error(engine):
    stream = engine.stream(MESSAGES, temperature=1.0, seed=1, max_new_tokens=200, cancel=_FailingEvent(after=6))
    received = []
    outcome = _in_thread(lambda: [received.append(piece) for piece in stream])
    assert isinstance(outcome.get("error"), RuntimeError)
    assert "simulated device failure" in str(outcome["error"])
    assert stream.tokens == 7  # it failed mid-reply, after some text had come out
    assert received


def test_model_without_a_chat_template_uses_chatml_and_warns(tmp_path):
    folder = build_chat_lm(tmp_path / "no-template", template=None)
    engine = ChatEngine.load(folder, device="cpu")
    assert "no chat template" in engine.warning and "ChatML" in engine.warning
    prompt = engine.tokenizer.decode(engine.encode(MESSAGES, tools=TOOLS)["input_ids"][0])
    assert prompt.startswith("<|im_start|>system\nYou help artists.") and "set_prompt" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert engine.reply(MESSAGES, temperature=0, max_new_tokens=5)


def test_bad_folders_give_clear_errors(tmp_path, tiny_chat):
    with pytest.raises(ChatModelError, match="not a chat model folder"):
        ChatEngine.load(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (broken / name).write_bytes((tiny_chat / name).read_bytes())
    (broken / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(ChatModelError, match="cannot load the chat model"):
        ChatEngine.load(broken)


def test_bad_sampling_settings_are_refused(engine):
    with pytest.raises(ChatModelError, match="temperature"):
        engine.stream(MESSAGES, temperature=-1)


def test_memory_estimate_before_loading_matches_the_loaded_model(engine, tiny_chat):
    estimate = estimate_chat_memory(tiny_chat, context_tokens=1024, device="cpu")
    loaded = engine.memory_bytes(1024)
    assert abs(estimate - loaded) / loaded < 0.01
    # KV cache: 2 layers x 2 kv heads x 16 dims x keys and values x 4 bytes = 512 bytes a token
    assert engine.memory_bytes(2048) - engine.memory_bytes(1024) == 1024 * 512
    assert engine.weights_bytes > 300_000


def test_memory_estimate_counts_only_the_weights_the_loader_reads(tmp_path, tiny_chat):
    folder = tmp_path / "with-consolidated"
    shutil.copytree(tiny_chat, folder)
    shutil.copy(folder / "model.safetensors", folder / "consolidated.safetensors")  # as Mistral repos ship
    assert estimate_chat_memory(folder, 1024, "cpu") == estimate_chat_memory(tiny_chat, 1024, "cpu")


def test_context_fitting_with_the_real_tokenizer_keeps_the_system_prompt(engine):
    history = [MESSAGES[0]]
    for index in range(30):
        history += [{"role": "user", "content": f"question {index} about foxes in the forest"},
                    {"role": "assistant", "content": f"answer {index}: a fox, soft light, detailed"}]
    history.append({"role": "user", "content": "and now?"})
    window = fit_context(history, engine.count_tokens, context_length=300, max_new_tokens=100)
    assert window.left_out > 0
    assert window.messages[0] == MESSAGES[0] and window.messages[-1] == history[-1]
    assert engine.count_tokens(list(window.messages)) == window.tokens <= 200
    assert engine.reply(list(window.messages), temperature=0, max_new_tokens=3)
