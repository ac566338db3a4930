"""Property-based fuzzing of every reader: whatever the bytes, no exception escapes and nothing hangs."""

from __future__ import annotations

import json
import os
import struct
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.metadata import a1111, atelier, comfyui, fooocus, invokeai, novelai, read_metadata, xmp
from desktop.core.metadata.image_text import decode_user_comment
from desktop.core.metadata.info import GenerationInfo

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
