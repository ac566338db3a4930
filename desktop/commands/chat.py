"""`main.py chat`: talk to a local chat model from the terminal; the reply streams to stdout and is saved.

Both messages go to the same history the chat dock shows (data_dir/chat.sqlite3); the conversation
id goes to stderr so a script can continue it with --conversation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "chat"
HELP = ("send one message to a local chat model (or one on an OpenAI-compatible server with --server) and "
        "stream the reply (saved in the chat history)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from desktop.commands.arguments import utf8_text

    parser.add_argument("message", type=utf8_text, help="what to say; '-' reads it from standard input")
    parser.add_argument("--model", required=True, help="chat model folder, .gguf file, or a model's name from the "
                        "models list; with --server, the server's model name (see its /v1/models)")
    parser.add_argument("--server", metavar="URL", help="an OpenAI-compatible server (Ollama, LM Studio, llama.cpp, "
                        "vLLM, transformers serve), e.g. http://localhost:11434/v1; nothing is sent anywhere without it")
    parser.add_argument("--api-key-env", metavar="VAR", help="read the server's API key from this environment "
                        "variable (never from the command line, where other users and shell history see it)")
    parser.add_argument("--conversation", type=int, metavar="ID", help="continue this conversation")
    parser.add_argument("--system", metavar="TEXT", type=utf8_text,
                        help="system prompt (persona); saved with the conversation")
    parser.add_argument("--temperature", type=float, metavar="T", help="0 = always the likeliest word (default 0.7)")
    parser.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling, above 0 up to 1 (default 0.9)")
    parser.add_argument("--max-new-tokens", type=int, metavar="N", help="longest reply in tokens (default 512)")
    parser.add_argument("--seed", type=int, metavar="S", help="same seed, same settings, same reply")


def _fail(message: str, code: int = 2) -> int:  # 2: what was asked for is wrong (as argparse and generate)
    print(f"atelier chat: {message}", file=sys.stderr)
    return code


def _resolve_model(ref: str, paths):
    """The chat model's ModelEntry, or a LookupError saying what to pass instead."""
    from desktop.core.models import CHAT, discover_models, resolve_model
    from desktop.core.paths import hf_cache_dir
    from desktop.core.settings import Settings

    settings = Settings.load(paths.config_dir / "settings.json")
    folders = [Path(settings.models_dir) if settings.models_dir else paths.models_dir]
    folders += [Path(folder) for folder in settings.extra_model_dirs]
    entries = discover_models(folders, hf_cache_dir())
    if not Path(ref).expanduser().exists() and any(sep in ref for sep in ("/", "\\")) and \
            not any(e.name.lower() == ref.lower() for e in entries):
        chats = ", ".join(sorted(e.name for e in entries if e.kind == CHAT)) or "none found"
        raise LookupError(f"there is no folder {ref}: give a chat model folder or a name (chat models: {chats})")
    entry = resolve_model(ref, sorted(entries, key=lambda e: e.kind != CHAT))  # a chat model wins a name clash
    if entry.kind != CHAT:
        chats = ", ".join(sorted(e.name for e in entries if e.kind == CHAT)) or "none found"
        raise LookupError(f"{entry.name} is an image model ({entry.kind}), not a chat model; chat models: {chats}")
    if entry.problem:
        raise LookupError(entry.problem)
    return entry


def run(args: argparse.Namespace) -> int:
    from desktop.core.chat_store import (DATABASE_NAME, DEFAULT_SAMPLING, ChatStore, ChatStoreError, check_sampling,
                                         suggest_title)
    from desktop.core.paths import AppPaths

    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a terminal without UTF-8 still shows the reply
    from desktop.commands.arguments import read_stdin_text

    try:
        message = read_stdin_text(sys.stdin) if args.message == "-" else args.message
    except ValueError as error:
        return _fail(str(error), 2)
    if not message.strip():
        return _fail("the message is empty: type something to say", 2)
    paths = AppPaths.default().ensure()
    if args.api_key_env and not args.server:
        return _fail("--api-key-env goes with --server URL", 2)
    if args.server:
        try:
            engine = _server_engine(args)
        except ValueError as error:
            return _fail(str(error), 2)
        entry = None
    else:
        try:
            entry = _resolve_model(args.model, paths)
        except LookupError as error:
            return _fail(str(error))
    store = ChatStore(paths.data_dir / DATABASE_NAME)
    if store.notice:
        print(f"atelier chat: {store.notice}", file=sys.stderr)
    settings = {key: value for key, value in (
        ("temperature", args.temperature), ("top_p", args.top_p), ("max_new_tokens", args.max_new_tokens),
        ("system_prompt", args.system)) if value is not None}
    try:
        conversation = store.conversation(args.conversation) if args.conversation is not None else None
        sampling = {key: getattr(conversation, key) for key in DEFAULT_SAMPLING} if conversation else dict(
            DEFAULT_SAMPLING)
        sampling.update({key: value for key, value in settings.items() if key in DEFAULT_SAMPLING})
        check_sampling(**sampling)  # refused before the model is loaded, not after
    except ChatStoreError as error:
        store.close()
        return _fail(str(error), 2)

    if entry is not None:
        from desktop.engine.chat import ChatEngine, ChatModelError  # torch is imported only from here on

        try:
            engine = ChatEngine.load(entry.path, on_status=lambda text: print(f"atelier chat: {text}", file=sys.stderr))
        except ChatModelError as error:
            store.close()
            return _fail(str(error), 1)  # the model is there but does not load: not the user's typing
        if engine.warning:
            print(f"atelier chat: warning: {engine.warning}", file=sys.stderr)
    model_name = entry.name if entry is not None else args.model
    if conversation is None:
        conversation = store.create_conversation(suggest_title(message), model=model_name, **settings)
    else:  # flags given now become the conversation's settings, as changing them in the dock would
        conversation = store.update_conversation(conversation.id, model=model_name, **settings)
    with store:
        return _converse(store, engine, conversation, message, args.seed)


def _server_engine(args: argparse.Namespace):
    """The server's model as a chat engine; ValueError (exit 2) for a bad URL, key variable or key."""
    import os

    from desktop.core.chat_server import ChatServer
    from desktop.engine.server_chat import ServerChatEngine

    key = ""
    if args.api_key_env:
        if args.api_key_env not in os.environ:
            raise ValueError(f"the environment variable {args.api_key_env} is not set: "
                             f"export {args.api_key_env}=<your key> first")
        key = os.environ[args.api_key_env]
    return ServerChatEngine(ChatServer(args.server, key), args.model)


def _converse(store, engine, conversation, message: str, seed: int | None) -> int:
    """Save the message, stream the reply to stdout while it is saved, end it as complete/stopped/error."""
    from desktop.core.chat_context import ContextError
    from desktop.core.chat_server import ServerError
    from desktop.engine.chat_reply import stream_reply

    if getattr(engine, "device", "") == "server":
        ChatModelError = ContextError  # noqa: N806  (no torch for a server chat: nothing else to catch here)
    else:
        from desktop.engine.chat import ChatModelError

    user = store.add_message(conversation.id, "user", message.strip())

    def show_notice(_reply, notice: str) -> None:
        if notice:
            print(f"atelier chat: {notice}", file=sys.stderr)

    def show(_message_id: int, piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    try:
        stream_reply(store, engine, conversation.id, seed=seed, on_start=show_notice, on_piece=show)
    except (ContextError, ChatModelError) as error:
        store.truncate_after(user.id, inclusive=True)  # nothing was answered: leave no half turn behind
        if not store.messages(conversation.id):
            store.delete_conversation(conversation.id)
        return _fail(str(error), 2)
    except KeyboardInterrupt:
        print(f"\natelier chat: stopped; the partial reply is saved in conversation {conversation.id}",
              file=sys.stderr)
        return 130
    except ServerError as error:  # said plainly; whatever came before it is saved with the error
        print(file=sys.stdout)
        code = 2 if error.kind in ("auth", "model") else 1  # the user's key or model name: bad input
        return _fail(f"{error} (saved in conversation {conversation.id})", code)
    except Exception as error:  # a failure mid-reply ends as an error message in the history, not a trace
        print(file=sys.stdout)
        return _fail(f"the reply failed: {error}; saved as an error in conversation {conversation.id}", 1)
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(f"atelier chat: conversation {conversation.id} (continue with --conversation {conversation.id})",
          file=sys.stderr)
    return 0
