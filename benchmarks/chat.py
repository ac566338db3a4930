"""Chat: time to first token and tokens per second of the app's chat engine against plain `generate`.

If the chat worker integration exists this should time the worker path; until then it times
`desktop.engine.chat.ChatEngine.stream` (what the worker will call) against `model.generate` on the
same model, prompt and greedy decoding, alternating, several rounds, in one fresh process.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.figures import Context, Figure, at_least, at_most, in_thread, median, missing, report_child, run_child

KEYS = ("chat_ttft_overhead_ms", "chat_tps_ratio")
MESSAGES = [{"role": "system", "content": "You help artists write prompts."},
            {"role": "user", "content": "Describe a watercolor painting of a fox in a misty forest."}]


def child(model: str, tokens: int, repeats: int) -> dict:
    import torch

    from desktop.engine.chat import ChatEngine

    engine = ChatEngine.load(model)
    lm, tokenizer = engine.model, engine.tokenizer

    def plain_generate(max_new: int) -> tuple[float, int]:
        start = time.perf_counter()
        inputs = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        with torch.inference_mode():
            # the same greedy settings the engine passes (do_sample=False alone keeps sampling processors)
            out = lm.generate(**inputs, max_new_tokens=max_new, do_sample=False, temperature=None, top_p=None,
                              top_k=None, eos_token_id=engine.eos_token_ids,
                              pad_token_id=tokenizer.pad_token_id)
        return time.perf_counter() - start, int(out.shape[1] - inputs["input_ids"].shape[1])

    def app_stream() -> tuple[float, float, int]:
        start = time.perf_counter()
        stream = engine.stream(MESSAGES, temperature=0, max_new_tokens=tokens)
        first = None
        for _piece in stream:
            if first is None:
                first = time.perf_counter() - start
        return first or 0.0, time.perf_counter() - start, stream.tokens

    plain_generate(tokens), app_stream()  # warm both
    ttft_app, ttft_plain, tps_app, tps_plain, counts = [], [], [], [], []
    for round_index in range(repeats):
        for which in (("app", "plain") if round_index % 2 == 0 else ("plain", "app")):
            if which == "app":
                first, total, count = app_stream()
                ttft_app.append(first)
                tps_app.append(count / total)
                counts.append(count)
            else:
                # on a thread like the engine's generate (see figures.in_thread)
                ttft_plain.append(in_thread(lambda: plain_generate(1))[0])
                total, count = in_thread(lambda: plain_generate(tokens))
                tps_plain.append(count / total)
                counts.append(count)
    return {"ttft_app_s": ttft_app, "ttft_plain_s": ttft_plain, "tps_app": tps_app, "tps_plain": tps_plain,
            "tokens": counts}


def run(ctx: Context) -> dict:
    try:
        import desktop.engine.chat  # noqa: F401 - built by another feature; null until it lands
    except ImportError as error:
        return {k: missing(f"chat engine not built yet ({error})") for k in KEYS}
    tokens, repeats = (48, 3) if ctx.quick else (128, 5)
    r = run_child("chat", [str(ctx.model("tiny-chat")), str(tokens), str(repeats)])
    where = (f"tiny 2-layer Qwen2 chat model, greedy, up to {tokens} new tokens (got {min(r['tokens'])}-"
             f"{max(r['tokens'])}), {repeats} alternating rounds")
    return {
        "chat_ttft_overhead_ms": at_most((median(r["ttft_app_s"]) - median(r["ttft_plain_s"])) * 1000, 30, unit="ms",
                                         samples=r["ttft_app_s"] + r["ttft_plain_s"],
                                         how="median time from ChatEngine.stream() to the first text piece minus median "
                                         f"time of a plain apply_chat_template + generate(max_new_tokens=1); {where}"),
        "chat_tps_ratio": at_least(median(r["tps_app"]) / median(r["tps_plain"]), 0.97, unit="x",
                                   samples=r["tps_app"] + r["tps_plain"],
                                   how=f"tokens/s of the streamed reply (wall time, streamer thread included) / tokens/s "
                                   f"of a plain generate(); {where}"),
        "chat_tps_plain": Figure(median(r["tps_plain"]), unit="tok/s", how=where, target="reference"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("model")
    parser.add_argument("tokens", type=int)
    parser.add_argument("repeats", type=int)
    a = parser.parse_args()
    report_child(child(a.model, a.tokens, a.repeats))
