"""The chat history: conversations, messages, streaming saves, search, export, migration, recovery."""

from __future__ import annotations

import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.core.chat_database import SCHEMA_VERSION, STEPS, _statements
from desktop.core.chat_store import ChatStore, ChatStoreError, suggest_title


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "chat.sqlite3") as opened:
        yield opened


def _chat(store, *turns):
    conversation = store.create_conversation("Foxes", system_prompt="You help artists.")
    for role, text in turns:
        store.add_message(conversation.id, role, text)
    return conversation


def test_new_database_is_wal_at_the_current_schema_without_backup(tmp_path):
    store = ChatStore(tmp_path / "chat.sqlite3")
    store.close()
    conn = sqlite3.connect(tmp_path / "chat.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.backup is None and store.notice == ""
    assert not list(tmp_path.glob("*.bak-*"))


def test_conversations_create_list_rename_update_delete(store):
    first = store.create_conversation("one", temperature=0.2, top_p=0.5, max_new_tokens=64)
    time.sleep(0.01)
    second = store.create_conversation("  ", system_prompt="persona")
    assert second.title == "New chat" and second.system_prompt == "persona"
    assert [c.id for c in store.list_conversations()] == [second.id, first.id]
    time.sleep(0.01)
    renamed = store.rename_conversation(first.id, "Foxes at dawn")
    assert renamed.title == "Foxes at dawn" and renamed.updated > first.updated
    assert store.list_conversations()[0].id == first.id  # most recently touched first
    changed = store.update_conversation(first.id, temperature=1.1, system_prompt="terse", model="tiny")
    assert (changed.temperature, changed.top_p, changed.max_new_tokens) == (1.1, 0.5, 64)
    assert (changed.system_prompt, changed.model) == ("terse", "tiny")
    with pytest.raises(ChatStoreError, match="temperature"):
        store.update_conversation(first.id, temperature=5)
    with pytest.raises(ChatStoreError, match="cannot change"):
        store.update_conversation(first.id, id=3)
    store.delete_conversation(first.id)
    assert [c.id for c in store.list_conversations()] == [second.id]
    with pytest.raises(ChatStoreError, match="no conversation"):
        store.conversation(first.id)


def test_settings_persist_across_reopen(tmp_path):
    with ChatStore(tmp_path / "c.sqlite3") as store:
        made = store.create_conversation("x", system_prompt="pirate", temperature=0.3, top_p=0.8,
                                         max_new_tokens=99, model="qwen")
    with ChatStore(tmp_path / "c.sqlite3") as store:
        assert store.conversation(made.id) == made


def test_messages_keep_order_and_reject_bad_roles(store):
    conversation = _chat(store, ("user", "hi"), ("assistant", "hello"), ("user", "a fox?"))
    messages = store.messages(conversation.id)
    assert [(m.role, m.content, m.position) for m in messages] == [
        ("user", "hi", 0), ("assistant", "hello", 1), ("user", "a fox?", 2)]
    assert all(m.status == "complete" for m in messages)
    with pytest.raises(ChatStoreError, match="unknown role"):
        store.add_message(conversation.id, "wizard", "x")
    with pytest.raises(ChatStoreError, match="no conversation"):
        store.add_message(12345, "user", "x")


def test_streamed_reply_is_saved_in_batches_and_finished(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3", flush_interval_s=60, flush_pieces=3)
    conversation = _chat(store, ("user", "hi"))
    reply = store.start_reply(conversation.id)
    assert reply.status == "streaming" and reply.content == ""
    on_disk = sqlite3.connect(tmp_path / "c.sqlite3")

    def saved() -> str:
        return on_disk.execute("SELECT content FROM messages WHERE id = ?", (reply.id,)).fetchone()[0]

    store.append_to_message(reply.id, "a ")
    store.append_to_message(reply.id, "b ")
    assert saved() == ""  # still in the batch
    store.append_to_message(reply.id, "c ")
    assert saved() == "a b c "  # third piece: the batch is written
    store.append_to_message(reply.id, "d")
    finished = store.finish_message(reply.id, "complete")
    assert finished.content == "a b c d" and finished.status == "complete"
    assert saved() == "a b c d"
    store.close()


def test_batches_are_also_written_by_time(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3", flush_interval_s=0.05, flush_pieces=10_000)
    conversation = _chat(store, ("user", "hi"))
    reply = store.start_reply(conversation.id)
    store.append_to_message(reply.id, "one ")
    time.sleep(0.08)
    store.append_to_message(reply.id, "two")
    on_disk = sqlite3.connect(tmp_path / "c.sqlite3")
    assert on_disk.execute("SELECT content FROM messages WHERE id = ?", (reply.id,)).fetchone()[0] == "one two"
    store.close()


def test_interrupted_reply_reads_as_stopped_after_reopen(tmp_path):
    store = ChatStore(tmp_path / "c.sqlite3", flush_pieces=1)
    conversation = _chat(store, ("user", "hi"))
    reply = store.start_reply(conversation.id)
    store.append_to_message(reply.id, "half a rep")
    store._conn.close()  # as a crash would: no finish, no close()
    with ChatStore(tmp_path / "c.sqlite3") as reopened:
        message = reopened.message(reply.id)
        assert (message.content, message.status) == ("half a rep", "stopped")


def test_finish_with_error_keeps_partial_text_and_reason(store):
    conversation = _chat(store, ("user", "hi"))
    reply = store.start_reply(conversation.id)
    store.append_to_message(reply.id, "partial")
    failed = store.finish_message(reply.id, "error", error="RuntimeError: out of memory")
    assert (failed.content, failed.status, failed.error) == ("partial", "error", "RuntimeError: out of memory")
    with pytest.raises(ChatStoreError):
        store.finish_message(reply.id, "streaming")


def test_edit_and_resend_replaces_later_turns(store):
    conversation = _chat(store, ("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2"))
    first_question = store.messages(conversation.id)[0]
    store.edit_message(first_question.id, "q1 edited")
    assert store.truncate_after(first_question.id) == 3
    assert [(m.role, m.content) for m in store.messages(conversation.id)] == [("user", "q1 edited")]
    store.add_message(conversation.id, "assistant", "new a1")
    assert [m.position for m in store.messages(conversation.id)] == [0, 1]


def test_regenerate_replaces_only_the_last_reply(store):
    conversation = _chat(store, ("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2"))
    last_question = store.last_message(conversation.id, role="user")
    assert last_question.content == "q2"
    assert store.truncate_after(last_question.id) == 1
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1", "q2"]
    assert store.truncate_after(store.messages(conversation.id)[1].id, inclusive=True) == 2
    assert [m.content for m in store.messages(conversation.id)] == ["q1"]


def test_search_finds_titles_and_messages_by_words_and_prefix(store):
    foxes = _chat(store, ("user", "a watercolor fox in the misty forest"), ("assistant", "Lovely idea!"))
    cats = store.create_conversation("Cat portraits")
    store.add_message(cats.id, "user", "an oil painting of a cat")
    assert [hit.conversation.id for hit in store.search("watercol")] == [foxes.id]
    hit = store.search("misty fox")[0]
    assert "[misty]" in hit.snippet and hit.message_id is not None
    assert [hit.conversation.id for hit in store.search("portraits")] == [cats.id]
    assert store.search("painting")[0].conversation.id == cats.id
    assert store.search("fox cat") == []  # every word must match in one place
    assert store.search("   ") == []
    store.delete_conversation(foxes.id)
    assert store.search("watercolor") == []  # deleted messages leave the index


def test_search_sees_streamed_and_edited_text(store):
    conversation = _chat(store, ("user", "hi"))
    reply = store.start_reply(conversation.id)
    store.append_to_message(reply.id, "a crimson dragon")
    store.finish_message(reply.id)
    assert store.search("crimson")[0].message_id == reply.id
    store.edit_message(reply.id, "a blue whale")
    assert store.search("crimson") == [] and store.search("whale")[0].message_id == reply.id


def test_search_never_fails_on_what_people_type(store):
    _chat(store, ("user", 'quotes " and ( parens ) AND OR NEAR * ^ -minus'))

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=40) | st.sampled_from(['"', "\x00", "*", "NEAR(", "a OR", "-", "^x", "col:x"]))
    def search(text):
        assert isinstance(store.search(text), list)

    search()
    assert store.search('" and (')[0].conversation.title == "Foxes"


def test_export_markdown_names_roles_statuses_and_errors(store, tmp_path):
    conversation = _chat(store, ("user", "Draw a fox"))
    reply = store.start_reply(conversation.id)
    store.append_to_message(reply.id, "Here is **a prompt**")
    store.finish_message(reply.id, "stopped")
    failed = store.start_reply(conversation.id)
    store.finish_message(failed.id, "error", error="out of memory")
    text = store.export_markdown(conversation.id)
    assert text.startswith("# Foxes\n")
    assert "You help artists." in text
    assert "## You\n\nDraw a fox" in text
    assert "## Assistant (stopped)\n\nHere is **a prompt**" in text
    assert "## Assistant (error)" in text and "> Error: out of memory" in text
    saved = store.save_markdown(conversation.id, tmp_path / "out" / "foxes.md")
    assert saved.read_text(encoding="utf-8") == text


def test_suggest_title():
    assert suggest_title("  a fox\nin snow ") == "a fox in snow"
    assert suggest_title("") == "New chat"
    long = suggest_title("word " * 30)
    assert long.endswith("…") and len(long) <= 49 and not long[:-1].endswith(" ")


# ------------------------------------------------------------------ migration and recovery
def _old_database(path):
    """A file as the first schema step left it, with a conversation in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in _statements(STEPS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO conversations (id, title, created, updated) VALUES (7, 'Old chat', 1, 2)")
    conn.execute("INSERT INTO messages (conversation_id, role, content, created, position) "
                 "VALUES (7, 'user', 'an ancient lighthouse', 1, 0)")
    conn.close()


def test_migration_from_an_older_schema_backs_up_first_and_keeps_data(tmp_path):
    path = tmp_path / "chat.sqlite3"
    _old_database(path)
    with ChatStore(path) as store:
        assert store.backup is not None and store.backup.exists()
        assert store.backup.name.startswith("chat.sqlite3.bak-v1-")
        message = store.messages(7)[0]
        assert (message.content, message.status) == ("an ancient lighthouse", "complete")
        assert store.search("lighthouse")[0].conversation.title == "Old chat"  # migrated rows are indexed
    backup = sqlite3.connect(store.backup)
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    assert backup.execute("SELECT content FROM messages").fetchone()[0] == "an ancient lighthouse"


def test_failed_migration_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "chat.sqlite3"
    _old_database(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE messages_fts (x)")  # step 2 will fail creating its search table
    conn.close()
    with ChatStore(path) as store:
        assert store.set_aside is not None and "moved to" in store.notice  # unusable: kept aside
        assert store.list_conversations() == []
    kept = sqlite3.connect(store.set_aside)
    assert kept.execute("PRAGMA user_version").fetchone()[0] == 1  # the rollback left step 1 untouched
    assert kept.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1


def test_corrupt_file_is_moved_aside_and_a_fresh_history_starts(tmp_path):
    path = tmp_path / "chat.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with ChatStore(path) as store:
        assert store.set_aside is not None and store.set_aside.name.startswith("chat.sqlite3.corrupt-")
        assert store.set_aside.read_bytes().startswith(b"this is not a database")
        assert "moved to" in store.notice and store.path == path
        conversation = store.create_conversation("works")
        store.add_message(conversation.id, "user", "still chatting")
    with ChatStore(path) as reopened:
        assert reopened.notice == "" and reopened.list_conversations()[0].title == "works"


def test_locked_file_is_left_alone_and_a_side_file_is_used(tmp_path):
    path = tmp_path / "chat.sqlite3"
    ChatStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file
    holder.execute("INSERT INTO conversations (title, created, updated) VALUES ('theirs', 1, 1)")
    try:
        store = ChatStore(path, busy_timeout_s=0.2)
        assert "locked" in store.notice and store.path != path and store.set_aside is None
        store.add_message(store.create_conversation("mine").id, "user", "hello")
        store.close()
    finally:
        holder.execute("COMMIT")
        holder.close()
    with ChatStore(path) as original:
        assert [c.title for c in original.list_conversations()] == ["theirs"]


def test_newer_schema_is_left_untouched(tmp_path):
    path = tmp_path / "chat.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with ChatStore(path) as store:
        assert "newer Atelier" in store.notice and store.path != path
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5


def test_unwritable_folder_still_gives_a_working_store(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with ChatStore(blocker / "chat.sqlite3") as store:
        assert "will not be saved" in store.notice
        conversation = store.create_conversation("in memory")
        store.add_message(conversation.id, "user", "hi")
        assert store.messages(conversation.id)[0].content == "hi"
