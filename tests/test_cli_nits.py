"""The command line's rough edges, as a user meets them: sampler names in any case, one exit code per kind
of error in every subcommand, a closed pipe, text that is not UTF-8, and `info` on a project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from main import main

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, home: Path, stdin: bytes | None = None, close_stdout: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATELIER_HOME": str(home), "HF_HUB_CACHE": str(home / "hf"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(ROOT / "main.py"), *args]
    if close_stdout:  # the reader went away before the answer was written: `... | head` that already has enough
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            done = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=120)
        finally:
            os.close(write_end)
        return done
    return subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=120)


def test_sampler_names_in_any_case(app_paths, tiny_sd15, tmp_path, capsys):
    out = tmp_path / "fox.png"
    code = main(["generate", "--model", str(tiny_sd15), "--prompt", "a fox", "--width", "64", "--height", "64",
                 "--steps", "1", "--seed", "3", "--scheduler", "dpm++  2m KARRAS", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "Sampler: DPM++ 2M Karras" in Image.open(out).text["parameters"]
    with pytest.raises(SystemExit) as refused:  # argparse's own exit, as for any bad argument
        main(["generate", "--model", str(tiny_sd15), "--prompt", "x", "--scheduler", "heun", "--out", str(out)])
    assert refused.value.code == 2 and "unknown scheduler 'heun'" in capsys.readouterr().err


# one kind of mistake, the same answer in every subcommand: exit code 2 and one line on stderr
BAD_INPUT = {
    "generate, no such model": ["generate", "--model", "nope", "--prompt", "x", "--out", "{tmp}/a.png"],
    "chat, no such model": ["chat", "--model", "nope", "hello"],
    "info, no such file": ["info", "{tmp}/missing.png"],
    "models import, no such file": ["models", "import", "{tmp}/missing.safetensors"],
    "generate, bad size": ["generate", "--model", "nope", "--prompt", "x", "--width", "500", "--out", "{tmp}/a.png"],
    "chat, empty message": ["chat", "--model", "nope", "  "],
    "info, damaged project": ["info", "{tmp}/damaged.ora"],
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_the_same_mistake_gives_exit_code_2_and_one_line_everywhere(app_paths, tmp_path, capsys, case):
    (tmp_path / "damaged.ora").write_bytes(b"PK\x03\x04" + b"\0" * 26 + b"mimetypeimage/openraster" + b"\0" * 40)
    args = [part.format(tmp=tmp_path) for part in BAD_INPUT[case]]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, (case, err)
    assert err.count("\n") == 1 and err.startswith("atelier"), err


def test_models_list_into_a_closed_pipe_ends_quietly(tmp_path):
    done = _run("models", "list", "--json", home=tmp_path, close_stdout=True)
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr, done.stderr.decode()
    assert done.returncode == 141  # as a shell reports a writer stopped by SIGPIPE


@pytest.mark.parametrize("args, stdin", [
    (["generate", "--model", "m", "--prompt", b"caf\xe9 au lait", "--out", "a.png"], None),
    (["chat", "--model", "m", b"\xff\xfehello"], None),
    (["chat", "--model", "m", "-"], b"bonjour \xe9\n"),
], ids=["generate prompt", "chat message", "chat from stdin"])
def test_text_that_is_not_utf8_gets_one_clear_line(tmp_path, args, stdin):
    done = _run(*args, home=tmp_path, stdin=stdin)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert "not valid UTF-8" in err and "Traceback" not in err and err.count("\n") == 1, err


def test_info_on_a_project_describes_its_size_layers_and_how_each_was_made(app_paths, tmp_path, capsys):
    from desktop.core.document import Document, Group
    from desktop.core.edits import AddGeneratedLayer
    from desktop.core.openraster import save_ora

    document = Document.blank(96, 64)
    text = ("a lighthouse, dusk\nNegative prompt: blur\nSteps: 4, Sampler: Euler a, CFG scale: 6.5, Seed: 77, "
            "Size: 96x64, Model: tiny")
    document.history.do(AddGeneratedLayer(np.zeros((64, 96, 3), np.uint8), "a lighthouse, dusk", 0, 0, text))
    document.update_layer(document.layers[1].id, blend="svg:multiply", groups=(Group("Sea"),))
    save_ora(document, tmp_path / "coast.ora")
    assert main(["info", str(tmp_path / "coast.ora")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("coast.ora: OpenRaster project, 96x64, 2 layers")
    assert "layer 'a lighthouse, dusk': 96x64, at 0,0, Multiply, in Sea" in out
    assert "prompt: a lighthouse, dusk" in out and "seed: 77" in out and "CFG scale: 6.5" in out
    assert "layer 'Background': 96x64" in out
    assert main(["info", "--json", str(tmp_path / "coast.ora")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["width"], data["height"], len(data["layers"])) == (96, 64, 2)
    assert data["layers"][0]["generation"]["seed"] == 77 and data["layers"][1]["generation"] is None
