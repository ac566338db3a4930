"""Saving generated images: the file, its name, its three metadata blocks, and failures a person can act on."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.metadata import read_metadata
from desktop.core.metadata.xmp import TRAINED_ALGORITHMIC_MEDIA
from desktop.core.outputs import SaveError, format_a1111_parameters, save_generation
from desktop.core.params import GenerationParams

PARAMS = GenerationParams(
    prompt="a red fox, (autumn:1.2)",
    negative_prompt="blurry",
    model="tiny-sd15",
    width=64,
    height=64,
    steps=4,
    guidance=7.5,
    scheduler="DPM++ 2M Karras",
    seed=965400086,
    loras=(("film grain", 0.6),),
)


def _image() -> Image.Image:
    return Image.new("RGB", (64, 64), (200, 80, 20))


def test_saved_png_carries_a1111_text_atelier_record_and_ai_mark(tmp_path):
    path = save_generation(_image(), PARAMS, tmp_path, model_name="tiny-sd15", model_hash="45dee52b",
                           seconds=1.25, extra={"source_image_sha256": "ab12"})
    assert path.name == "00000-965400086.png"
    with Image.open(path) as image:  # read back with Pillow, independent of Atelier's reader
        assert image.size == (64, 64)
        chunks = dict(image.text)
    assert chunks["parameters"] == (
        "a red fox, (autumn:1.2) <lora:film grain:0.6>\n"
        "Negative prompt: blurry\n"
        "Steps: 4, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 965400086, Size: 64x64, "
        "Model hash: 45dee52b, Model: tiny-sd15, Version: Atelier 0.1.0"
    )
    record = json.loads(chunks["atelier"])
    assert record["params"] == PARAMS.to_dict()
    assert record["model_hash"] == "45dee52b" and record["seconds"] == 1.25
    assert record["extra"] == {"source_image_sha256": "ab12"}
    assert "Iptc4xmpExt:DigitalSourceType" in chunks["XML:com.adobe.xmp"]
    assert TRAINED_ALGORITHMIC_MEDIA in chunks["XML:com.adobe.xmp"]


def test_round_trip_restores_the_exact_params(tmp_path):
    path = save_generation(_image(), PARAMS, tmp_path, model_name="tiny-sd15")
    info = read_metadata(path)
    assert info.tool == "atelier"
    assert info.to_params() == PARAMS
    assert info.extra["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA


def test_files_are_numbered_after_the_highest_existing_counter(tmp_path):
    (tmp_path / "00041-7.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    first = save_generation(_image(), PARAMS, tmp_path, model_name="m")
    second = save_generation(_image(), PARAMS.replace(seed=5), tmp_path, model_name="m")
    assert (first.name, second.name) == ("00042-965400086.png", "00043-5.png")


def test_an_explicit_path_is_used_and_overwritten_whole(tmp_path):
    target = tmp_path / "sub" / "mine.png"
    assert save_generation(_image(), PARAMS, tmp_path, model_name="m", path=target) == target
    assert read_metadata(target).seed == PARAMS.seed
    assert [p.name for p in target.parent.iterdir()] == ["mine.png"]  # no temp file left


def test_an_outputs_folder_that_is_a_file_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "outputs"
    blocker.write_text("I am a file")
    with pytest.raises(SaveError) as caught:
        save_generation(_image(), PARAMS, blocker, model_name="m")
    assert "choose another outputs folder" in str(caught.value)
    assert isinstance(caught.value, OSError)


def test_a_full_disk_loses_nothing_silently(tmp_path):
    """A real write failure (file-size limit, EFBIG) in a child process: clear error, no partial file."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        from PIL import Image
        from desktop.core.outputs import SaveError, save_generation
        from desktop.core.params import GenerationParams
        import numpy
        noise = Image.fromarray(numpy.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype="uint8"))
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            save_generation(noise, GenerationParams(seed=3), {str(tmp_path)!r}, model_name="m")
        except SaveError as error:
            print("ERROR", error)
            sys.exit(0)
        sys.exit(1)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert done.returncode == 0, done.stderr
    assert "disk is full" in done.stdout and "still on the canvas" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_format_a1111_parameters_quotes_values_with_commas():
    text = format_a1111_parameters(PARAMS.replace(loras=()), model_name="my, model", model_hash="")
    assert text.splitlines()[-1].endswith('Model: "my, model", Version: Atelier 0.1.0')


def test_unsaved_images_are_held_until_a_retry_works(tmp_path):
    from desktop.core.outputs import UnsavedImages

    blocked = tmp_path / "outputs"
    blocked.write_text("a file where the folder should be")
    held = UnsavedImages()
    assert held.save(_image(), PARAMS, blocked, model_name="m", model_hash="h") is None
    assert len(held) == 1 and "choose another outputs folder" in held.last_error
    assert held.retry() == [] and len(held) == 1  # still blocked: still held
    elsewhere = held.retry(tmp_path / "other")
    assert [p.name for p in elsewhere] == ["00000-965400086.png"] and len(held) == 0 and held.last_error == ""
    assert read_metadata(elsewhere[0]).extra["model_hash"] == "h"
    blocked.unlink()
    assert held.save(_image(), PARAMS, blocked, model_name="m").parent == blocked
