"""The chat engine: one local causal LM and its tokenizer; counts tokens and streams replies.

`generate` runs on a helper thread and feeds a TextIteratorStreamer; the caller iterates text
pieces as they come. A StoppingCriteria reading a threading.Event stops within one token, and
`streamer.end()` runs in a finally so an exception inside generate can never leave the consumer
waiting: the exception is raised again in the consumer instead.
"""

from __future__ import annotations

import gc
import struct
import threading
import time
from pathlib import Path
from typing import Iterator

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer
from transformers.utils import logging as hf_logging

from desktop.core import json_text
from desktop.core.models import check_chat_folder

# Used when a model folder has no chat template (the user sees NO_TEMPLATE_WARNING): plain
# ChatML, which most instruct models since 2024 were trained on or tolerate; tools are listed the
# way Qwen/Hermes templates list them so tool calls still work.
FALLBACK_CHAT_TEMPLATE = (
    # no "{%-" here: it would eat the newlines ChatML needs (transformers also sets trim_blocks)
    "{% if tools %}<|im_start|>system\n"
    "{% if messages and messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}\n\n{% endif %}"
    "# Tools\nYou may call one or more functions. Function signatures:\n<tools>\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}</tools>\n"
    "Return each call as <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call><|im_end|>\n{% endif %}"
    "{% for m in messages %}{% if not (tools and loop.first and m['role'] == 'system') %}"
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_TEMPLATE_WARNING = "{name} has no chat template: using a plain ChatML template, replies may be poor"
# the KV cache grows with the conversation; memory estimates assume this many tokens unless told
DEFAULT_ESTIMATE_TOKENS = 4096


class ChatModelError(RuntimeError):
    """A chat model cannot be loaded or run; the message says what to do."""


def pick_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _dtype_for(device: str) -> torch.dtype:
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32  # CPUs without bf16 units run half precision many times slower


def _weight_files(folder: Path) -> list[Path]:
    """The safetensors files the loader will read (some repos also ship a consolidated copy)."""
    index = folder / "model.safetensors.index.json"
    if index.exists():
        weight_map = json_text.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        return sorted({folder / name for name in weight_map.values()})
    if (folder / "model.safetensors").exists():
        return [folder / "model.safetensors"]
    return sorted(folder.glob("*.safetensors"))


def _parameter_count(folder: Path) -> int:
    """Parameters in the folder's safetensors files, read from their headers (no weights loaded)."""
    total = 0
    for file in _weight_files(folder):
        with open(file, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json_text.loads(handle.read(length))
        for name, info in header.items():
            if name != "__metadata__":
                count = 1
                for side in info["shape"]:
                    count *= side
                total += count
    return total


def kv_cache_bytes_per_token(config: dict, dtype_bytes: int) -> int:
    layers = int(config.get("num_hidden_layers", config.get("n_layer", 0)))
    heads = int(config.get("num_attention_heads", config.get("n_head", 1)))
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or int(config.get("hidden_size", config.get("n_embd", 0))) // heads)
    return 2 * layers * kv_heads * head_dim * dtype_bytes  # keys and values


def estimate_chat_memory(folder: str | Path, context_tokens: int = DEFAULT_ESTIMATE_TOKENS,
                         device: str | None = None) -> int:
    """Bytes a chat model will take once loaded (weights in the load dtype plus a KV cache), before loading."""
    folder = Path(folder)
    dtype_bytes = torch.empty((), dtype=_dtype_for(device or pick_device())).element_size()
    if folder.is_file():  # a GGUF (the converted copy holds the same parameters)
        from desktop.engine.gguf_convert import estimate_gguf_memory

        return estimate_gguf_memory(folder, context_tokens, dtype_bytes)
    config = json_text.loads((folder / "config.json").read_text(encoding="utf-8"))
    tokens = min(context_tokens, int(config.get("max_position_embeddings") or context_tokens))
    return _parameter_count(folder) * dtype_bytes + tokens * kv_cache_bytes_per_token(config, dtype_bytes)


def _converted_gguf(path: Path, on_status=None) -> Path:
    """The safetensors folder made from a GGUF file (desktop.engine.gguf_convert), converting it once."""
    from desktop.core.gguf_files import is_gguf
    from desktop.core.memory import available_memory
    from desktop.engine.gguf_convert import GgufConversionError, ensure_converted

    if not is_gguf(path):
        raise ChatModelError(f"{path} is a file but not a GGUF chat model: give a chat model folder or a .gguf file")
    try:
        return ensure_converted(path, available_memory(), on_status=on_status)[0]
    except GgufConversionError as error:
        raise ChatModelError(str(error)) from error


class _CancelCriteria(StoppingCriteria):
    """Stops generation at the next token once an event is set; counts the tokens made so far."""

    def __init__(self, *events) -> None:
        self.events = [e for e in events if e is not None]
        self.tokens = 0
        self.stopped = False  # True when an event, not the end token or the length, ended it

    def __call__(self, input_ids, scores, **kwargs):
        self.tokens += 1
        stop = any(event.is_set() for event in self.events)
        self.stopped = self.stopped or stop
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class _TokenStreamer(TextIteratorStreamer):
    """Hands on the text of every token at once (the base class holds text back to a word's end)."""

    def put(self, value) -> None:
        if len(value.shape) > 1:
            value = value[0]
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        self.token_cache.extend(value.tolist())
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\ufffd"):
            return  # half of a multi-byte character: wait for the token that completes it
        printable, self.print_len = text[self.print_len:], len(text)
        if text.endswith("\n"):  # decoding the whole cache each time stays cheap when it restarts per line
            self.token_cache, self.print_len = [], 0
        if printable:
            self.on_finalized_text(printable)


class ReplyStream:
    """Iterate for text pieces; afterwards finish_reason is "stop", "length" or "cancelled"."""

    def __init__(self, engine: "ChatEngine", inputs: dict, generate_kwargs: dict, cancel, seed: int | None) -> None:
        self.finish_reason = ""
        self.seed = seed
        self.prompt_tokens = int(inputs["input_ids"].shape[1])
        self.first_piece_s: float | None = None  # seconds from start to the first piece (TTFT)
        self.seconds = 0.0
        self._engine, self._inputs, self._kwargs = engine, inputs, generate_kwargs
        self._cancel, self._closed = cancel, threading.Event()
        self._criteria = _CancelCriteria(cancel, self._closed)
        self._iterator = self._run()

    @property
    def tokens(self) -> int:
        """Tokens generated so far (read by the stop-within-one-token test and the benchmarks)."""
        return self._criteria.tokens

    def __iter__(self) -> Iterator[str]:
        return self._iterator

    def __next__(self) -> str:
        return next(self._iterator)

    def close(self) -> None:
        self._iterator.close()

    def _run(self) -> Iterator[str]:
        engine = self._engine
        streamer = _TokenStreamer(engine.tokenizer, skip_prompt=True, skip_special_tokens=False)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with torch.inference_mode():
                    engine.model.generate(
                        **self._inputs, **self._kwargs, streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([self._criteria]))
            except BaseException as error:  # handed to the consumer, never lost on this thread
                failure.append(error)
            finally:
                streamer.end()  # without it the consumer would wait for ever after a failure

        if self.seed is not None:  # seeded when generation starts, so nothing in between draws from it
            torch.manual_seed(int(self.seed))  # also seeds every CUDA device
        start = time.perf_counter()
        thread = threading.Thread(target=work, name="chat-generate", daemon=True)
        thread.start()
        finished = False
        try:
            for piece in streamer:
                piece = engine.strip_special(piece)
                if piece:
                    if self.first_piece_s is None:
                        self.first_piece_s = time.perf_counter() - start
                    yield piece
            finished = True
        finally:
            if not finished:  # the consumer stopped early (closed, or raised): stop generating
                self._closed.set()
            thread.join()
            self.seconds = time.perf_counter() - start
        if failure:
            raise failure[0]
        if self._criteria.stopped:
            self.finish_reason = "cancelled"
        elif self.tokens >= self._kwargs["max_new_tokens"]:
            self.finish_reason = "length"
        else:
            self.finish_reason = "stop"


class ChatEngine:
    """One loaded causal LM with its tokenizer: the context size, token counts, streamed replies."""

    def __init__(self, model, tokenizer, *, path: str, device: str, warning: str = "") -> None:
        self.model, self.tokenizer, self.path, self.device, self.warning = model, tokenizer, path, device, warning
        config = model.config
        self.context_length = int(getattr(config, "max_position_embeddings", 0) or 0) or (
            tokenizer.model_max_length if 0 < tokenizer.model_max_length < 1_000_000 else 2048)
        vocab = tokenizer.get_vocab()
        ends = model.generation_config.eos_token_id
        ends = [ends] if isinstance(ends, int) else list(ends or [])
        if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ends:
            ends.append(tokenizer.eos_token_id)
        # ChatML turns end with <|im_end|> even when the model's own end token is another one
        ends += [vocab[t] for t in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>") if t in vocab and vocab[t] not in ends]
        self.eos_token_ids = ends
        # every control token (ChatML's <|im_start|> is an added special token, not in all_special_tokens),
        # longest first; tool-call markers stay: they are how a reply asks for a tool
        added = [t.content for t in getattr(tokenizer, "added_tokens_decoder", {}).values() if t.special]
        specials = {t for t in [*tokenizer.all_special_tokens, *added] if t and "tool_call" not in t}
        self._specials = sorted(specials, key=len, reverse=True)

    @classmethod
    def load(cls, folder: str | Path, device: str | None = None, on_status=None) -> "ChatEngine":
        """Load a chat model folder, or a GGUF file through its converted copy (made on first use)."""
        source = folder = Path(folder)
        if folder.is_file():
            folder = _converted_gguf(folder, on_status)
        problem = check_chat_folder(folder) if (folder / "config.json").exists() else (
            f"{folder} is not a chat model folder (no config.json)")
        if problem and not problem.endswith("plain ChatML template"):
            raise ChatModelError(problem)
        device = device or pick_device()
        hf_logging.disable_progress_bar()  # no progress bars on the command line's stderr
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=_dtype_for(device))
        except Exception as error:  # OSError, ValueError, safetensors and size errors alike
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ChatModelError(f"cannot load the chat model in {folder}: {first}") from error
        warning = ""
        if not tokenizer.chat_template:
            tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
            warning = NO_TEMPLATE_WARNING.format(name=folder.name)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.to(device).eval()
        return cls(model, tokenizer, path=str(source), device=device, warning=warning)

    # ------------------------------------------------------------------ measuring
    @property
    def weights_bytes(self) -> int:
        tensors = list(self.model.parameters()) + list(self.model.buffers())
        return sum(t.numel() * t.element_size() for t in tensors)

    def memory_bytes(self, context_tokens: int = DEFAULT_ESTIMATE_TOKENS) -> int:
        """Weights plus the KV cache for context_tokens (capped at the model's context)."""
        dtype_bytes = next(self.model.parameters()).element_size()
        tokens = min(context_tokens, self.context_length)
        return self.weights_bytes + tokens * kv_cache_bytes_per_token(self.model.config.to_dict(), dtype_bytes)

    def encode(self, messages: list[dict], tools=None) -> dict:
        try:
            encoded = self.tokenizer.apply_chat_template(
                list(messages), tools=list(tools) if tools else None, add_generation_prompt=True,
                return_tensors="pt", return_dict=True)
        except Exception as error:  # a template raising (e.g. "roles must alternate") is the user's to fix
            raise ChatModelError(f"the model's chat template refused this conversation: {error}") from error
        return {key: value.to(self.device) for key, value in encoded.items()}

    def count_tokens(self, messages: list[dict], tools=None) -> int:
        return int(self.encode(messages, tools)["input_ids"].shape[1])

    def strip_special(self, text: str) -> str:
        for token in self._specials:
            text = text.replace(token, "")
        return text

    # ------------------------------------------------------------------ generating
    def stream(self, messages: list[dict], *, temperature: float = 0.7, top_p: float = 0.9,
               max_new_tokens: int = 512, seed: int | None = None, tools=None,
               cancel: threading.Event | None = None) -> ReplyStream:
        """Text pieces of the reply as they are made. temperature 0 is greedy; a seed makes sampling repeat."""
        if not 0.0 <= temperature <= 2.0 or not 0.0 < top_p <= 1.0 or max_new_tokens < 1:
            raise ChatModelError("temperature must be 0 to 2, top-p above 0 up to 1, max new tokens at least 1")
        inputs = self.encode(messages, tools)
        kwargs: dict = {"max_new_tokens": int(max_new_tokens), "eos_token_id": self.eos_token_ids,
                        "pad_token_id": self.tokenizer.pad_token_id}
        if temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=float(temperature), top_p=float(top_p))
        return ReplyStream(self, inputs, kwargs, cancel, seed)

    def reply(self, messages: list[dict], **options) -> str:
        return "".join(self.stream(messages, **options))

    def unload(self) -> None:
        """Free the weights (the worker calls this when memory is needed for another model)."""
        self.model = None
        gc.collect()
        if self.device == "cuda":
            torch.cuda.empty_cache()
