"""The LRU policy that decides which models stay loaded: plain values, no models."""

from desktop.worker.chat_jobs import TokenBatcher
from desktop.worker.residency import Residency

GB = 1024 ** 3


def test_both_stay_loaded_when_they_fit():
    places = Residency()
    places.loaded("image", "/m/sd15", 3 * GB)
    plan = places.make_room("chat", "/m/qwen", 2 * GB, available=10 * GB)
    assert plan.unload == () and plan.fits and plan.describe("/m/qwen") == ""


def test_the_least_recently_used_other_model_goes_first():
    places = Residency()
    places.loaded("image", "/m/sd15", 3 * GB)
    places.loaded("chat", "/m/qwen", 2 * GB)
    places.touch("image")  # the image model was used after the chat model
    plan = places.make_room("vision", "/m/big", 3 * GB, available=2 * GB)
    assert [r.slot for r in plan.unload] == ["chat"] and plan.fits
    text = plan.describe("/m/big")
    assert text.startswith("Unloaded qwen to make room for big") and "GB" in text


def test_replacing_the_model_in_the_same_slot_counts_its_memory_as_free():
    places = Residency()
    places.loaded("image", "/m/sd15", 3 * GB)
    places.loaded("chat", "/m/small-chat", 4 * GB)
    plan = places.make_room("chat", "/m/other-chat", 4 * GB, available=1 * GB)
    assert plan.unload == () and plan.fits  # 1 + 4 free once the old chat model goes: the image model stays


def test_the_same_model_again_needs_nothing():
    places = Residency()
    places.loaded("chat", "/m/qwen", 2 * GB)
    assert places.make_room("chat", "/m/qwen", 2 * GB, available=0).unload == ()


def test_when_nothing_can_make_it_fit_everything_else_goes_and_the_user_is_told():
    places = Residency()
    places.loaded("image", "/m/sd15", 1 * GB)
    plan = places.make_room("chat", "/m/huge", 40 * GB, available=2 * GB)
    assert [r.path for r in plan.unload] == ["/m/sd15"] and not plan.fits
    assert "huge needs about 40.0 GB but only 3.0 GB is free" in plan.describe("/m/huge")


def test_unloaded_models_are_forgotten():
    places = Residency()
    places.loaded("image", "/m/sd15", 1 * GB)
    places.unloaded("image")
    assert places.residents() == [] and places.get("image") is None


def test_token_batcher_sends_the_first_piece_at_once_then_batches_with_offsets():
    now = [0.0]
    sent = []
    batcher = TokenBatcher(sent.append, job_id=1, interval_s=0.03, clock=lambda: now[0])
    batcher.add(5, "Hel")  # first: at once
    for piece in ("lo", ", ", "wor"):
        now[0] += 0.009
        batcher.add(5, piece)
    now[0] += 0.009
    batcher.add(5, "ld")  # 0.036 s after the first send
    batcher.add(5, "!")
    batcher.flush()
    assert [(t.text, t.offset) for t in sent] == [("Hel", 0), ("lo, world", 3), ("!", 12)]
    assert "".join(t.text for t in sent) == "Hello, world!" and {t.message_id for t in sent} == {5}
