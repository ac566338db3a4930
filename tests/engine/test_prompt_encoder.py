"""A1111-style prompt encoding on real tiny pipelines: weights, BREAK, 75-token chunks, both families."""

import numpy as np
import pytest
import torch

from desktop.core.params import GenerationParams
from desktop.engine.prompt_encoder import CHUNK, encode_prompts, needs_chunked_encoding

PARAMS = GenerationParams(prompt="red fox", negative_prompt="blurry", width=64, height=64, steps=1, seed=7)
LONG = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(79))  # 79 one-token words (byte-level tokenizer)


@pytest.fixture
def sd15(sd15_engine):
    return sd15_engine


@pytest.fixture
def sdxl(sdxl_engine):
    return sdxl_engine


def pixels(image):
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_with_every_weight_one_the_chunks_are_the_pipelines_own_tensors(request, family):
    pipe = request.getfixturevalue(family)._pipes["txt2img"]
    for negative in ("blurry", ""):
        with torch.inference_mode():
            ours = encode_prompts(pipe, "a red fox, watercolor", negative).call
            theirs = pipe.encode_prompt(
                "a red fox, watercolor", **({"prompt_2": None} if family == "sdxl" else {}),
                device=pipe._execution_device, num_images_per_prompt=1, do_classifier_free_guidance=True,
                negative_prompt=negative or None)
        assert torch.equal(ours["prompt_embeds"], theirs[0])
        assert torch.equal(ours["negative_prompt_embeds"], theirs[1])
        if family == "sdxl":
            assert torch.equal(ours["pooled_prompt_embeds"], theirs[2])
            assert torch.equal(ours["negative_pooled_prompt_embeds"], theirs[3])


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_weight_one_gives_exactly_the_pixels_of_the_plain_word(request, family):
    engine = request.getfixturevalue(family)
    pipe = engine._pipes["txt2img"]
    assert needs_chunked_encoding(pipe, "(red:1.0) fox") and not needs_chunked_encoding(pipe, "red fox")
    plain = pixels(engine.generate(PARAMS)[0])
    assert np.array_equal(pixels(engine.generate(PARAMS.replace(prompt="(red:1.0) fox"))[0]), plain)
    # the tiny SDXL UNet reads its text weakly: any change shows the weight arrived
    assert np.abs(pixels(engine.generate(PARAMS.replace(prompt="(red:1.6) fox"))[0]) - plain).max() > 0


def test_the_80th_token_changes_the_image_where_plain_diffusers_cuts_it(sd15):
    pipe = sd15._pipes["txt2img"]
    assert len(pipe.tokenizer(LONG + " x", add_special_tokens=False).input_ids) == 80
    first = pixels(sd15.generate(PARAMS.replace(prompt=LONG + " x", steps=2))[0])
    second = pixels(sd15.generate(PARAMS.replace(prompt=LONG + " y", steps=2))[0])
    assert np.abs(first - second).max() > 3
    with torch.inference_mode():  # the pipeline alone keeps 77 tokens: both prompts read the same
        cut_x, cut_y = (pipe.encode_prompt(LONG + end, "cpu", 1, False)[0] for end in (" x", " y"))
    assert torch.equal(cut_x, cut_y)


def test_emphasis_is_a1111s_scale_then_restore_the_mean(sd15):
    pipe = sd15._pipes["txt2img"]
    with torch.inference_mode():
        plain = encode_prompts(pipe, "a red fox", "").call["prompt_embeds"]
        weighted = encode_prompts(pipe, "a (red:1.3) fox", "").call["prompt_embeds"]
    red = pipe.tokenizer("red", add_special_tokens=False).input_ids
    weights = torch.ones(CHUNK + 2)
    weights[2:2 + len(red)] = 1.3  # after BOS and "a": the tokens of "red" (byte-level: one per letter)
    expected = plain * weights.reshape(1, -1, 1)
    expected = expected * (plain.mean() / expected.mean())
    assert torch.allclose(weighted, expected, atol=1e-6)


def test_break_and_long_prompts_make_chunks_and_the_negative_is_padded(sd15, sdxl):
    for engine, width in ((sd15, 32), (sdxl, 64)):
        pipe = engine._pipes["txt2img"]
        with torch.inference_mode():
            call = encode_prompts(pipe, "sky BREAK sea", "blurry").call
            long = encode_prompts(pipe, "short", LONG + " " + LONG).call
        assert call["prompt_embeds"].shape == call["negative_prompt_embeds"].shape == (1, 2 * (CHUNK + 2), width)
        assert long["prompt_embeds"].shape == long["negative_prompt_embeds"].shape == (1, 3 * (CHUNK + 2), width)
    image = sdxl.generate(PARAMS.replace(prompt="sky BREAK sea", negative_prompt=""))[0]
    assert image.size == (64, 64)


def test_a_late_comma_carries_the_last_words_into_the_next_chunk(sd15):
    from desktop.core.prompt_weights import parse_weights
    from desktop.engine.prompt_encoder import tokenize_chunks

    tokenizer = sd15._pipes["txt2img"].tokenizer
    text = " ".join(["a"] * 70) + ", " + " ".join(["b"] * 10)  # 70 one-token words, a comma, ten more: 81 tokens
    chunks = tokenize_chunks(tokenizer, parse_weights(text))
    comma = tokenizer(",", add_special_tokens=False).input_ids[0]
    assert len(chunks) == 2 and chunks[0].tokens[-1] == comma and len(chunks[0].tokens) == 71
    assert len(chunks[0].tokens) + len(chunks[1].tokens) == len(tokenizer(text, add_special_tokens=False).input_ids)


def test_compel_weights_differ_from_a1111(sd15):
    """Why Atelier has its own encoder: compel's arithmetic and syntax are not A1111's."""
    from compel import Compel

    pipe = sd15._pipes["txt2img"]
    compel = Compel(tokenizer=pipe.tokenizer, text_encoder=pipe.text_encoder, truncate_long_prompts=False)
    with torch.inference_mode():
        ours = encode_prompts(pipe, "a (red:1.3) fox", "").call["prompt_embeds"]
        theirs = compel("a (red)1.3 fox")  # the same emphasis in compel's syntax
        ours_break = encode_prompts(pipe, "sky BREAK sea", "").call["prompt_embeds"]
        theirs_break = compel("sky BREAK sea")
    assert ours.shape == theirs.shape
    assert (ours - theirs).abs().max() > 1e-3  # other numbers for the same weight
    assert ours_break.shape[1] == 2 * (CHUNK + 2) and theirs_break.shape[1] == CHUNK + 2  # BREAK is a word to compel


def test_openclip_padding_of_sd2_and_sdxl_matches_the_pipeline(sd15):
    """SD 2.x (and SDXL's second encoder) pad with "!" after the EOS: chunks are padded the pipeline's way."""
    import copy

    pipe = sd15._pipes["txt2img"]
    sd2_like = copy.copy(pipe)
    sd2_like.tokenizer = copy.deepcopy(pipe.tokenizer)
    sd2_like.tokenizer.pad_token = "!"
    with torch.inference_mode():
        ours = encode_prompts(sd2_like, "a red fox", "blurry").call
        theirs = sd2_like.encode_prompt("a red fox", "cpu", 1, True, "blurry")
    assert sd2_like.tokenizer.pad_token_id != sd2_like.tokenizer.eos_token_id
    assert torch.equal(ours["prompt_embeds"], theirs[0]) and torch.equal(ours["negative_prompt_embeds"], theirs[1])
