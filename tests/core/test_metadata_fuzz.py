"""Property-based fuzzing of every reader: whatever the bytes, no exception escapes and nothing hangs."""

from __future__ import annotations

import json
import os
import struct
import zlib

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from PIL import Image

from desktop.core.metadata import a1111, atelier, comfyui, fooocus, invokeai, novelai, read_metadata, xmp
from desktop.core.metadata.writer import export_image
from desktop.core.metadata.image_text import decode_user_comment
from desktop.core.metadata.info import GenerationInfo
from desktop.core.params import SCHEDULERS, GenerationParams

# A few seconds in the suite; ATELIER_FUZZ_EXAMPLES=5000 for a long hunt.
FUZZ = settings(max_examples=int(os.environ.get("ATELIER_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
KEYS = ["prompt", "positive_prompt", "negative_prompt", "uc", "seed", "steps", "cfg_scale", "scale", "width",
        "height", "model", "loras", "scheduler", "sampler", "resolution", "image", "params", "format",
        "class_type", "inputs", "text", "positive", "negative", "model_name", "name", "weight", "caption",
        "base_caption", "char_captions", "v4_prompt", "nodes", "links", "widgets_values", "version", "guidance"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["KSampler", "CLIPTextEncode", "atelier.generation", "1"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=6)),
    max_leaves=30)
LINK = st.tuples(st.sampled_from(["1", "2", "3", "4"]), st.integers(0, 2)).map(list)
COMFY_GRAPH = st.dictionaries(
    st.sampled_from(["1", "2", "3", "4"]),
    st.fixed_dictionaries({
        "class_type": st.sampled_from(["KSampler", "CLIPTextEncode", "CheckpointLoaderSimple", "LoraLoader",
                                       "EmptyLatentImage", "SamplerCustomAdvanced", "X"]),
        "inputs": st.dictionaries(st.sampled_from(["seed", "text", "positive", "negative", "model", "latent_image",
                                                   "guider", "noise", "width", "ckpt_name", "lora_name", "value"]),
                                  st.one_of(LINK, SCALARS), max_size=6),
    }),
    max_size=4,
)


def _check(info: GenerationInfo) -> None:
    assert isinstance(info, GenerationInfo)
    # read_metadata turns a reader's exception into a note and carries on, which would hide a crashing
    # reader from these tests: a reader may find nothing, but it must never raise
    crashed = [note for note in info.notes if "could not be read (" in note]
    assert not crashed, crashed
    json.dumps(info.to_json_dict())
    info.adapt()


@FUZZ
@given(st.text(max_size=300))
def test_text_readers_never_raise(text):
    for reader in (a1111.parse, invokeai.parse_dream, atelier.parse, comfyui.parse, comfyui.parse_workflow,
                   invokeai.parse_metadata, invokeai.parse_sd_metadata, fooocus.parse):
        _check(reader(text))
    xmp.parse_packet(text)


@FUZZ
@given(JSON)
def test_json_readers_never_raise_on_any_shape(value):
    text = json.dumps(value)
    for reader in (atelier.parse, comfyui.parse, comfyui.parse_workflow, invokeai.parse_metadata,
                   invokeai.parse_sd_metadata, fooocus.parse):
        _check(reader(text))
    _check(atelier.parse(json.dumps({"format": "atelier.generation", "params": value})))
    _check(novelai.parse({"Comment": text, "Description": "d", "Software": "NovelAI"}))


@FUZZ
@given(COMFY_GRAPH)
def test_comfyui_graphs_with_links_everywhere(graph):
    _check(comfyui.parse(json.dumps(graph)))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([b"Steps", b"Seed", b"Size", b"Sampler", b"CFG scale", b"x"]),
                          st.sampled_from([b": ", b":", b""]),
                          st.sampled_from([b"12", b'"a, b"', b'"', b"512x", b"x512", b"\\\"", b"-1", b"9" * 40]),
                          st.sampled_from([b", ", b",", b"\n", b""])), max_size=12))
def test_a1111_settings_line_pieces(pieces):
    _check(a1111.parse(b"".join(b"".join(p) for p in pieces).decode()))


@FUZZ
@given(st.binary(max_size=200))
def test_user_comment_bytes(data):
    decode_user_comment(data)
    decode_user_comment(b"UNICODE\0" + data)


def _chunk(kind: bytes, data: bytes, good_crc: bool) -> bytes:
    crc = zlib.crc32(kind + data) if good_crc else 0
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


CHUNK = st.tuples(
    st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"IHDR", b"IDAT", b"IEND", b"eXIf", b"abcd"]),
    st.one_of(st.binary(max_size=40),
              st.sampled_from([b"parameters\0Steps: 1, Seed: 2, Size: 64x64", b"prompt\0{}", b"atelier\0\0\0\0\0{}",
                               b"parameters\0\0" + zlib.compress(b"x" * 100), b"Comment\0{\"uc\":1}"])),
    st.booleans(),
)


@FUZZ
@given(st.lists(CHUNK, max_size=8), st.binary(max_size=30))
def test_png_files_with_random_chunks(tmp_path_factory, chunks, tail):
    path = tmp_path_factory.getbasetemp() / "fuzz.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(*c) for c in chunks) + tail)
    _check(read_metadata(path))


@FUZZ
@given(st.sampled_from([b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP", b"GIF89a", b""]), st.binary(max_size=300))
def test_other_files_with_random_bytes(tmp_path_factory, head, body):
    path = tmp_path_factory.getbasetemp() / "fuzz.img"
    path.write_bytes(head + body)
    _check(read_metadata(path))


LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x85\u2028\u2029"),
               max_size=60).filter(lambda text: not text.startswith("Negative prompt:"))
PARAMS = st.builds(
    GenerationParams,
    prompt=st.text(max_size=60), negative_prompt=st.text(max_size=30),
    width=st.integers(8, 64).map(lambda n: n * 8), height=st.integers(8, 64).map(lambda n: n * 8),
    steps=st.integers(1, 150), guidance=st.floats(0, 30).map(lambda g: round(g, 2)),
    scheduler=st.sampled_from(SCHEDULERS), seed=st.integers(0, 2**32 - 1),
)
ROUND_TRIP = settings(FUZZ, max_examples=int(os.environ.get("ATELIER_FUZZ_EXAMPLES", "30")))


@ROUND_TRIP
@given(PARAMS, st.sampled_from([".png", ".jpg", ".webp"]))
def test_what_atelier_writes_reads_back_the_same(tmp_path_factory, params, suffix):
    """Any settings, written the app's way in each format, come back equal: a reader that raises, or
    reads a field wrong, turns this red."""
    path = tmp_path_factory.getbasetemp() / f"roundtrip{suffix}"
    export_image(Image.new("RGB", (8, 8)), params, path, model_name="m")
    info = read_metadata(path)
    _check(info)
    assert info.tool == "atelier" and info.to_params() == params and info.model == "m"


@FUZZ
@given(PARAMS, LINE, LINE)
def test_the_a1111_text_reads_back_what_it_says(params, prompt, negative):
    params = params.replace(prompt=prompt.strip(), negative_prompt=negative.strip())
    info = a1111.parse(a1111.format_parameters(params, model_name="m"))
    _check(info)
    assert (info.prompt, info.negative_prompt, info.seed, info.steps, info.width, info.height, info.model) == (
        params.prompt, params.negative_prompt, params.seed, params.steps, params.width, params.height, "m")
    assert info.cfg_scale == params.guidance and info.to_params().scheduler == params.scheduler


def test_these_tests_catch_a_reader_that_always_raises(monkeypatch, tmp_path_factory):
    """The proof that the properties above can fail: break the A1111 and Atelier readers, and they do."""
    def broken(*_args, **_kwargs):
        raise RuntimeError("a reader that always raises")

    monkeypatch.setattr(a1111, "parse", broken)
    monkeypatch.setattr(atelier, "parse", broken)
    quick = settings(FUZZ, max_examples=20, phases=[Phase.generate])  # no shrinking: only that it fails
    for test in (test_png_files_with_random_chunks, test_what_atelier_writes_reads_back_the_same):
        monkeypatch.setattr(test, "_hypothesis_internal_use_settings", quick)  # what @settings sets
        with pytest.raises((AssertionError, RuntimeError)):
            test(tmp_path_factory)
