"""Chat: time to first token and tokens per second of the app's chat path against plain `generate`.

The app side is what a Send in the chat dock runs: a ChatJob on a real model lane (`Worker` with
`model_lane_handlers`) answering a conversation saved in a real ChatStore, its Token messages
(batched, at most one per 30 ms) received on the GUI thread by a QObject slot inside a Qt event
loop. The plain side is `apply_chat_template` + `model.generate` on a thread. Same model, prompt and
greedy decoding, alternating rounds, medians, in one fresh process per model.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.figures import Context, Figure, at_least, at_most, median, missing, report_child, run_child

KEYS = ("chat_ttft_overhead_ms", "chat_tps_ratio")
SYSTEM = "You help artists write prompts."
USER = "Describe a watercolor painting of a fox in a misty forest."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]


def child(model: str, tokens: int, repeats: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Slot

    from desktop.core.chat_store import ChatStore
    from desktop.core.messages import ChatEnded, ChatJob, Done, Failed, Token
    from desktop.worker.chat_jobs import CHAT_ENGINE_KEY, model_lane_handlers
    from desktop.worker.lane import Worker

    app = QCoreApplication.instance() or QCoreApplication([])
    store = ChatStore(tempfile.mkdtemp(prefix="atelier-bench-chat-") + "/chats.sqlite")
    worker = Worker(model_lane_handlers({}, store))
    worker.start()

    class Receiver(QObject):
        """The GUI-thread end of the lane, as the chat dock is: stamps the first Token and the end."""

        def __init__(self) -> None:
            super().__init__()
            self.loop = QEventLoop()
            self.first = self.ended = None
            self.tokens = 0
            self.error = ""

        @Slot(object)
        def on_message(self, message) -> None:
            if isinstance(message, Token) and self.first is None:
                self.first = time.perf_counter()
            elif isinstance(message, ChatEnded):
                self.ended, self.tokens = time.perf_counter(), message.tokens
            elif isinstance(message, (Done, Failed)):
                self.error = message.error if isinstance(message, Failed) else ""
                self.loop.quit()

    receiver = Receiver()
    worker.message.connect(receiver.on_message)  # a QObject slot in the GUI thread: a queued call

    def app_reply() -> tuple[float, float, int]:
        # a fresh conversation each round, so every reply answers the same prompt
        conversation = store.create_conversation(system_prompt=SYSTEM, temperature=0.0, max_new_tokens=tokens)
        store.add_message(conversation.id, "user", USER)
        receiver.first = receiver.ended = None
        start = time.perf_counter()
        worker.submit(ChatJob(conversation.id, model, seed=0, use_tools=False))
        receiver.loop.exec()
        if receiver.error or receiver.first is None:
            raise RuntimeError(f"chat job failed: {receiver.error or 'no token arrived'}")
        return receiver.first - start, receiver.ended - start, receiver.tokens

    app_reply()  # loads the model on the lane, untimed
    engine = worker.resources[CHAT_ENGINE_KEY]  # the same weights for the plain side
    lm, tokenizer = engine.model, engine.tokenizer

    def plain_generate(max_new: int) -> tuple[float, int]:
        start = time.perf_counter()
        inputs = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        with torch.inference_mode():
            # the same greedy settings the engine passes (do_sample=False alone keeps sampling processors)
            out = lm.generate(**inputs, max_new_tokens=max_new, do_sample=False, temperature=None, top_p=None,
                              top_k=None, eos_token_id=engine.eos_token_ids, pad_token_id=tokenizer.pad_token_id)
        return time.perf_counter() - start, int(out.shape[1] - inputs["input_ids"].shape[1])

    # plain runs on one long-lived thread, as the lane does: a fresh thread per call would start a
    # fresh OpenMP team each time and charge that to plain
    plain_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-plain")

    def in_thread(fn):
        return plain_thread.submit(fn).result()

    in_thread(lambda: plain_generate(tokens))  # warm
    first_visible = in_thread(lambda: tokens_to_first_text(lm, tokenizer, engine, tokens))
    ttft_app, ttft_plain, tps_app, tps_plain, counts = [], [], [], [], []
    for round_index in range(repeats):
        for which in (("app", "plain") if round_index % 2 == 0 else ("plain", "app")):
            if which == "app":
                first, total, count = app_reply()
                ttft_app.append(first)
            else:
                # plain to the same first visible text the app shows: a token that decodes to half of a
                # UTF-8 character (U+FFFD) is held back by any streamer until the next one completes it
                ttft_plain.append(in_thread(lambda: plain_generate(first_visible))[0])
                total, count = in_thread(lambda: plain_generate(tokens))
            (tps_app if which == "app" else tps_plain).append(count / total)
            counts.append(count)
    plain_thread.shutdown()
    worker.stop()
    store.close()
    del app
    return {"ttft_app_s": ttft_app, "ttft_plain_s": ttft_plain, "tps_app": tps_app, "tps_plain": tps_plain,
            "tokens": counts, "first_visible_tokens": first_visible}


def tokens_to_first_text(lm, tokenizer, engine, limit: int) -> int:
    """How many greedy tokens it takes until the reply decodes to printable text (not ending in U+FFFD)."""
    import torch

    inputs = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = lm.generate(**inputs, max_new_tokens=limit, do_sample=False, temperature=None, top_p=None, top_k=None,
                          eos_token_id=engine.eos_token_ids, pad_token_id=tokenizer.pad_token_id)
    reply = out[0, inputs["input_ids"].shape[1]:].tolist()
    for count in range(1, len(reply) + 1):
        text = tokenizer.decode(reply[:count], skip_special_tokens=False)
        if text and not text.endswith("\ufffd"):
            return count
    return max(1, len(reply))


def figures(r: dict, where: str, suffix: str = "") -> dict:
    ttft_how = ("median time from ChatJob submitted on the GUI thread to the first Token message in a GUI-thread "
                "slot (model lane, ChatStore, token batching) minus median time of a plain apply_chat_template + "
                f"generate(max_new_tokens=k) on a long-lived thread, k = tokens to the first printable text "
                f"(k={r.get('first_visible_tokens', 1)}: the app's first Token carries that same text); {where}")
    tps_how = ("tokens/s of the app's reply (ChatJob submitted -> ChatEnded in the GUI-thread slot, the reply saved "
               f"in the chat store as it streams) / tokens/s of a plain generate() on a long-lived thread; {where}")
    ttft = (median(r["ttft_app_s"]) - median(r["ttft_plain_s"])) * 1000
    ratio = median(r["tps_app"]) / median(r["tps_plain"])
    return {
        f"chat_ttft_overhead_ms{suffix}": at_most(ttft, 30, unit="ms", samples=r["ttft_app_s"] + r["ttft_plain_s"],
                                                  how=ttft_how),
        f"chat_tps_ratio{suffix}": at_least(ratio, 0.97, unit="x", samples=r["tps_app"] + r["tps_plain"], how=tps_how),
        f"chat_tps_plain{suffix}": Figure(median(r["tps_plain"]), unit="tok/s", how=where, target="reference"),
    }


def measure(ctx: Context, name: str, what: str, tokens: int, repeats: int, suffix: str = "") -> dict:
    # Passive OpenMP waits: with the default active wait, the idle OpenMP team of one side's thread
    # spins on both cores for a while after each call and starved the other side (plain 26-50 tok/s
    # against the app's 400-500 on the tiny model, ttft 200 ms, the order deciding who lost). Both
    # sides run under the same setting, so the comparison is of the code paths, not of spin-waits.
    r = run_child("chat", [str(ctx.model(name)), str(tokens), str(repeats)], timeout=1800, OMP_WAIT_POLICY="PASSIVE")
    where = (f"{what}, greedy, up to {tokens} new tokens (got {min(r['tokens'])}-{max(r['tokens'])}), "
             f"{repeats} alternating rounds, OMP_WAIT_POLICY=PASSIVE for both sides")
    return figures(r, where, suffix)


def run(ctx: Context) -> dict:
    try:
        import desktop.worker.chat_jobs  # noqa: F401
    except ImportError as error:
        return {k: missing(f"chat worker path not importable ({error})") for k in KEYS}
    tiny = "tiny 2-layer Qwen2 chat model (~400 tok/s: per-token costs weigh far more than with a real model)"
    if ctx.quick:
        return measure(ctx, "tiny-chat", tiny, 48, ctx.repeats)
    # the key figures come from the realistic model; the tiny one is kept for comparison with earlier runs
    small = "random-weight Qwen2, 896 wide x 12 layers (~180 M parameters, Qwen2.5-0.5B's width at half its depth)"
    result = measure(ctx, "chat-small", small, 64, 5)
    result.update(measure(ctx, "tiny-chat", tiny, 128, 5, suffix="_tiny"))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("tokens", type=int)
    parser.add_argument("repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.tokens, a.repeats))
