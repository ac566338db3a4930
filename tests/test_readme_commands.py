"""Every command line the README shows, run as a user runs it after `make run` / `make test`: the exact
line through bash from the project folder, with its placeholders filled in (real tiny models and files)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/atelier"
CHECKED_ELSEWHERE = {".venv/bin/atelier selftest": "tests/test_selftest.py runs it end to end (about 20 s)"}
# The generate example asks for 512 px and 20 steps; a random tiny model takes ~40 s at that size on
# two cores, so its numbers (only those) are made small. Everything else runs as written.
SHRINK = {"--width 512": "--width 64", "--height 512": "--height 64", "--steps 20": "--steps 2"}


def readme_lines() -> list[str]:
    """The command lines in the README's sh blocks: continuations joined, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s+#", line, maxsplit=1)[0].strip()
            if line.startswith((COMMAND, "python", "atelier")):
                lines.append(" ".join(line.split()))
    return lines


def test_the_readme_shows_the_command_that_exists_after_setup():
    lines = readme_lines()
    assert len(lines) >= 7
    assert all(line.startswith(COMMAND + " ") for line in lines), [l for l in lines if not l.startswith(COMMAND)]
    assert (ROOT / COMMAND).is_file(), "make run / make test install it (pyproject [project.scripts])"


@pytest.fixture(scope="module")
def placeholders(tiny_sd15, tiny_chat, tmp_path_factory) -> dict:
    from tiny_checkpoints import write_lora

    from desktop.core.outputs import save_generation
    from desktop.core.params import GenerationParams

    files = tmp_path_factory.mktemp("readme-files")
    image = save_generation(Image.new("RGB", (64, 64), "teal"), GenerationParams(prompt="a teal square", seed=9,
                                                                                 width=64, height=64),
                            files, model_name="tiny")
    return {"IMAGE": str(image), "FILE.safetensors": str(write_lora(tiny_sd15, files / "ink.safetensors")),
            "TEXT": "be brief", "ID": "1", "SD_MODEL": str(tiny_sd15), "CHAT_MODEL": str(tiny_chat)}


def _filled(line: str, values: dict) -> str:
    line = line.replace("[", "").replace("]", "")  # optional parts: given, to run them too
    for before, after in SHRINK.items():
        line = line.replace(before, after)
    model = values["CHAT_MODEL"] if " chat " in line else values["SD_MODEL"]
    line = line.replace("PATH_OR_NAME", shlex.quote(model))
    for key in ("IMAGE", "FILE.safetensors", "TEXT", "ID", "URL", "VAR", "NAME", "EDGES.png", "MASK.png",
                "CONTROLNET"):
        if key in values:
            line = re.sub(rf"(?<![\w.]){re.escape(key)}(?![\w])", shlex.quote(values[key]), line)
    return line


@pytest.mark.parametrize("line", readme_lines())
def test_each_readme_line_runs(line, placeholders, tmp_path, request):
    if line in CHECKED_ELSEWHERE:
        pytest.skip(CHECKED_ELSEWHERE[line])
    home = tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ATELIER_HOME": str(home),
           "HF_HUB_CACHE": str(tmp_path / "hf"), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    if " --server " in line:  # a real OpenAI-compatible server (transformers serve) with the tiny chat model
        from chat_servers import TINY_REPO

        placeholders = {**placeholders, "URL": request.getfixturevalue("transformers_server").url,
                        "VAR": "ATELIER_SERVER_KEY", "NAME": TINY_REPO}
        env["ATELIER_SERVER_KEY"] = "sk-readme-example"
    if "--conversation" in line:  # continuing a conversation needs one to continue
        from desktop.core.chat_store import ChatStore

        (home / "data").mkdir(parents=True)
        store = ChatStore(home / "data" / "chat.sqlite3")
        store.create_conversation("earlier", model="tiny-chat", max_new_tokens=8)  # a short reply keeps it quick
        store.close()
    if " generate " in line:  # with Settings > Sign Images with C2PA on, as a user may have it: generate signs
        (home / "config").mkdir(parents=True)
        (home / "config" / "settings.json").write_text(json.dumps({"write_c2pa": True}))
    if " --control " in line:  # a ControlNet in the models folder, an edge picture and a mask of the output's size
        import shutil

        import numpy as np

        shutil.copytree(request.getfixturevalue("tiny_controlnet"), home / "models" / "controlnet" / "canny-sd15")
        edges, mask = np.zeros((64, 64), np.uint8), np.zeros((64, 64), np.uint8)
        edges[::8], mask[:, 32:] = 255, 255
        Image.fromarray(edges).convert("RGB").save(tmp_path / "edges.png")
        Image.fromarray(mask).save(tmp_path / "mask.png")
        placeholders = {**placeholders, "EDGES.png": "edges.png", "MASK.png": "mask.png", "CONTROLNET": "canny-sd15"}
    if " upscale " in line:  # the built-in upscalers, converted once per session (not fetched per line)
        models = home / "models" / "upscale_models"
        models.mkdir(parents=True)
        for converted in (request.getfixturevalue("builtin_upscalers") / "upscale_models").iterdir():
            (models / converted.name).hardlink_to(converted)
    # the line as written, run from a scratch folder (so `--out fox.png` lands there, not in the project)
    command = str(ROOT / COMMAND) + _filled(line, placeholders).removeprefix(COMMAND)
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}\n{sorted(map(str, home.rglob('*')))}"
    assert "Traceback" not in done.stderr
    if " generate " in line:
        from desktop.core.metadata import provenance

        assert "Sampler: Euler a" in Image.open(tmp_path / "fox.png").text["parameters"]
        if " --control " in line:
            assert 'ControlNet 0: "Module: canny, Model: canny-sd15, Weight: 0.8' in \
                Image.open(tmp_path / "fox.png").text["parameters"]
        if provenance.unavailable_reason() is None:
            assert provenance.read_manifest(tmp_path / "fox.png")["validation_state"] == "Valid"
            assert (home / "config" / "c2pa" / provenance.KEY_FILE).is_file()
    if line.endswith("models list --json"):
        json.loads(done.stdout)


def test_python3_main_py_hands_the_line_to_the_venv(tmp_path):
    """`python3 main.py ...` with a Python lacking Atelier's libraries (the system one) still works."""
    system = "/usr/bin/python3"
    if not Path(system).is_file() or subprocess.run([system, "-c", "import torch"], capture_output=True).returncode == 0:
        pytest.skip("needs a system Python without torch")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ATELIER_HOME": str(tmp_path / "home")}
    done = subprocess.run([system, str(ROOT / "main.py"), "models", "list"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "No models found" in done.stdout, done.stderr
