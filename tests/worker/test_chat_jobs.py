"""Chat and Enhance jobs through the real lane, with the real chat store and tiny real models."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.core.chat_store import ChatStore
from desktop.core.messages import (
    Cancelled, ChatEnded, ChatJob, ChatStarted, Done, EnhanceJob, EnhanceResult, Failed, LoadModelJob, Loading,
    Started, Status, Token,
)
from desktop.core.models import SD1
from desktop.worker.chat_jobs import CHAT_ENGINE_KEY, RESIDENCY_KEY, model_lane_handlers
from desktop.worker.client import LocalClient
from desktop.worker.image_jobs import ENGINE_KEY, image_handlers
from desktop.worker.lane import Worker
from tests.worker.test_lane import Recorder

PLENTY = 64 * 1024 ** 3


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "chat.sqlite3") as opened:
        yield opened


def make_worker(tmp_path, store, free=PLENTY):
    return Worker(model_lane_handlers(image_handlers(lambda: tmp_path / "outputs"), store, lambda: free))


@pytest.fixture
def worker(qtbot, tmp_path, store):
    worker = make_worker(tmp_path, store)
    worker.start()
    yield worker
    worker.stop()


def ask(store, text="tell me about foxes", **settings):
    conversation = store.create_conversation("t", **settings)
    store.add_message(conversation.id, "user", text)
    return conversation.id


def wait_terminal(qtbot, recorder, job_id, timeout=60000):
    qtbot.waitUntil(lambda: bool(recorder.terminal(job_id)), timeout=timeout)


def test_reply_streams_through_its_handle_in_order_and_in_full_then_done(qtbot, worker, store, tiny_chat):
    client = LocalClient(worker)
    conversation_id = ask(store, temperature=0.9, max_new_tokens=40)
    handle = client.submit(ChatJob(conversation_id, str(tiny_chat), seed=3))
    qtbot.waitUntil(lambda: handle.done, timeout=60000)
    messages = handle.received
    kinds = [type(m).__name__ for m in messages]
    assert kinds[:3] == ["Started", "Loading", "ChatStarted"] and kinds[-2:] == ["ChatEnded", "Done"]
    assert "Loading chat model" in messages[1].text  # the job's own state while its model loads
    messages = [m for m in messages if not isinstance(m, Loading)]
    kinds = [type(m).__name__ for m in messages]
    assert set(kinds[2:-2]) == {"Token"}
    tokens = [m for m in messages if isinstance(m, Token)]
    started = next(m for m in messages if isinstance(m, ChatStarted))
    ended = next(m for m in messages if isinstance(m, ChatEnded))
    offsets = [sum(len(t.text) for t in tokens[:i]) for i in range(len(tokens))]
    assert [t.offset for t in tokens] == offsets  # contiguous: nothing lost, nothing twice
    saved = store.message(started.message_id)
    assert saved.content == "".join(t.text for t in tokens) and saved.status == "complete"
    assert ended.status == "complete" and 0 < ended.tokens <= 40 and {t.message_id for t in tokens} == {saved.id}
    assert [m.role for m in store.messages(conversation_id)] == ["user", "assistant"]


def test_stop_keeps_the_partial_reply_marked_stopped_and_ends_cancelled(qtbot, worker, store, tiny_chat):
    recorder = Recorder(worker)
    conversation_id = ask(store, temperature=1.0, max_new_tokens=400)
    job_id = worker.submit(ChatJob(conversation_id, str(tiny_chat), seed=1, use_tools=False))
    seen_at_stop = []

    def stop_on_first_token(message):  # runs on the lane thread, as soon as the first piece is out
        if isinstance(message, Token) and not seen_at_stop:
            seen_at_stop.append(message.offset + len(message.text))
            worker.cancel(job_id)

    worker.message.connect(stop_on_first_token, Qt.ConnectionType.DirectConnection)
    wait_terminal(qtbot, recorder, job_id)
    assert [type(m) for m in recorder.terminal(job_id)] == [Cancelled]
    ended = next(m for m in recorder.of(job_id) if isinstance(m, ChatEnded))
    reply = store.message(ended.message_id)
    assert ended.status == "stopped" and reply.status == "stopped"
    assert reply.content == "".join(m.text for m in recorder.of(job_id) if isinstance(m, Token))
    # the generate thread may run ahead of the consumer by a few tokens, never by the rest of the 400
    assert ended.tokens < 20 and ended.finish_reason == "cancelled"


QUESTION = "tell me about foxes"


@pytest.fixture
def nan_chat(tmp_path_factory, tiny_chat):
    """The tiny chat model with NaN input embeddings for every token its prompt does not use (a broken
    conversion): the first reply token streams out, then feeding it back fails inside generate."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("nan-chat")
    tokenizer = AutoTokenizer.from_pretrained(tiny_chat)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True,
                                           return_dict=True)["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(tiny_chat, tie_word_embeddings=False)
    with torch.no_grad():
        model.lm_head.weight.copy_(model.model.embed_tokens.weight)  # untied: the output layer stays sound
        poisoned = torch.ones(model.model.embed_tokens.weight.shape[0], dtype=torch.bool)
        poisoned[sorted(set(prompt))] = False
        model.model.embed_tokens.weight[poisoned] = float("nan")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_reply_that_fails_mid_stream_ends_as_an_error_message_and_the_lane_goes_on(
        qtbot, worker, store, tiny_chat, nan_chat):
    recorder = Recorder(worker)
    conversation_id = ask(store, QUESTION, temperature=1.0, max_new_tokens=50)
    bad = worker.submit(ChatJob(conversation_id, str(nan_chat), seed=0, use_tools=False))
    wait_terminal(qtbot, recorder, bad)
    failed = recorder.terminal(bad)
    assert len(failed) == 1 and isinstance(failed[0], Failed)
    assert "nan" in failed[0].message.lower() or "probability" in failed[0].message.lower()
    ended = next(m for m in recorder.of(bad) if isinstance(m, ChatEnded))
    reply = store.message(ended.message_id)
    assert ended.status == "error" and reply.status == "error" and reply.error
    assert reply.content  # what streamed before the failure is kept
    good = worker.submit(ChatJob(conversation_id, str(tiny_chat), seed=0, use_tools=False))
    wait_terminal(qtbot, recorder, good)
    assert [type(m) for m in recorder.terminal(good)] == [Done]


def test_a_bad_model_folder_fails_with_a_clear_message(qtbot, worker, store, tmp_path):
    recorder = Recorder(worker)
    job_id = worker.submit(ChatJob(ask(store), str(tmp_path / "nowhere")))
    wait_terminal(qtbot, recorder, job_id)
    (failed,) = recorder.terminal(job_id)
    assert isinstance(failed, Failed) and "not a chat model folder" in failed.message


def test_both_models_stay_loaded_when_memory_allows(qtbot, worker, store, tiny_sd15, tiny_chat):
    recorder = Recorder(worker)
    worker.submit(LoadModelJob(str(tiny_sd15)))
    job_id = worker.submit(ChatJob(ask(store, max_new_tokens=4), str(tiny_chat), seed=0))
    wait_terminal(qtbot, recorder, job_id)
    assert worker.resources[ENGINE_KEY].loaded is not None and CHAT_ENGINE_KEY in worker.resources
    assert {r.slot for r in worker.resources[RESIDENCY_KEY].residents()} == {"image", "chat"}
    assert not any(isinstance(m, Status) and m.text.startswith("Unloaded") for m in recorder.sink.messages)


def test_short_memory_unloads_the_least_recently_used_model_and_says_so(qtbot, tmp_path, store, tiny_sd15,
                                                                       tiny_chat):
    free = [PLENTY]
    worker = Worker(model_lane_handlers(image_handlers(lambda: tmp_path / "outputs"), store, lambda: free[0]))
    worker.start()
    try:
        recorder = Recorder(worker)
        load = worker.submit(LoadModelJob(str(tiny_sd15)))
        wait_terminal(qtbot, recorder, load)
        free[0] = 1024  # almost nothing free now: the image model must make way for the chat model
        job_id = worker.submit(ChatJob(ask(store, max_new_tokens=4), str(tiny_chat), seed=0))
        wait_terminal(qtbot, recorder, job_id)
        assert [type(m) for m in recorder.terminal(job_id)] == [Done]
        said = [m.text for m in recorder.sink.messages if isinstance(m, Status) and m.text.startswith("Unloaded")]
        assert said and said[0].startswith("Unloaded tiny-sd15 to make room for tiny-chat")
        assert worker.resources[ENGINE_KEY].loaded is None
        assert [r.slot for r in worker.resources[RESIDENCY_KEY].residents()] == ["chat"]
        # and back: the image model returns, the chat model (now least recently used) goes
        again = worker.submit(LoadModelJob(str(tiny_sd15)))
        wait_terminal(qtbot, recorder, again)
        assert CHAT_ENGINE_KEY not in worker.resources and worker.resources[ENGINE_KEY].loaded is not None
    finally:
        worker.stop()


def test_enhance_is_reproducible_with_a_fixed_seed(qtbot, worker, tiny_chat):
    recorder = Recorder(worker)
    jobs = [worker.submit(EnhanceJob("a fox in snow", SD1, str(tiny_chat), seed=11)) for _ in range(2)]
    wait_terminal(qtbot, recorder, jobs[-1])
    assert all([type(m) for m in recorder.terminal(job_id)] == [Done] for job_id in jobs)
    first, again = (next(m for m in recorder.of(job_id) if isinstance(m, EnhanceResult)) for job_id in jobs)
    assert first.original == "a fox in snow" and first.enhanced and first.family == SD1 and first.seed == 11
    assert (again.enhanced, again.reply) == (first.enhanced, first.reply)


def test_enhance_of_an_empty_prompt_fails_before_loading_anything(qtbot, worker, tiny_chat):
    recorder = Recorder(worker)
    job_id = worker.submit(EnhanceJob("  ", SD1, str(tiny_chat)))
    wait_terminal(qtbot, recorder, job_id)
    (failed,) = recorder.terminal(job_id)
    assert isinstance(failed, Failed) and "no prompt to enhance" in failed.message
    assert CHAT_ENGINE_KEY not in worker.resources
    assert [type(m) for m in recorder.of(job_id)] == [Started, Failed]
