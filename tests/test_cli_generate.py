"""`main.py generate` and `--version` as a user runs them: a real subprocess."""

import subprocess
import sys
from pathlib import Path

from PIL import Image

from desktop import __version__

ROOT = Path(__file__).resolve().parents[1]


def run_main(*args, env_home):
    env = {"ATELIER_HOME": str(env_home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
           "HF_HUB_CACHE": str(env_home / "hf"), "HOME": str(env_home)}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_version(tmp_path):
    result = run_main("--version", env_home=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"Atelier {__version__}"


def test_generate_writes_a_png_with_parameters(tmp_path, tiny_sd15):
    out = tmp_path / "fox.png"
    result = run_main("generate", "--model", str(tiny_sd15), "--prompt", "a fox, ink", "--negative", "blur",
                      "--width", "64", "--height", "64", "--steps", "2", "--seed", "5", "--scheduler", "DDIM",
                      "--out", str(out), env_home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "step 2/2" in result.stderr
    text = Image.open(out).text["parameters"]
    assert text.startswith("a fox, ink\nNegative prompt: blur\nSteps: 2, Sampler: DDIM")
    assert "Seed: 5" in text


def test_bad_arguments_exit_non_zero_with_one_clear_line(tmp_path, tiny_sd15):
    cases = [
        (["--width", "500"], "nearest valid: 504"),
        (["--steps", "many"], "steps must be a whole number"),
        (["--scheduler", "Heun++"], "unknown scheduler"),
    ]
    for extra, needle in cases:
        result = run_main("generate", "--model", str(tiny_sd15), "--prompt", "x", "--out", str(tmp_path / "a.png"),
                          *extra, env_home=tmp_path)
        assert result.returncode != 0 and needle in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    missing = run_main("generate", "--model", "nope", "--prompt", "x", "--out", str(tmp_path / "a.png"),
                       env_home=tmp_path)
    assert missing.returncode != 0 and "no model named 'nope'" in missing.stderr
    no_out = run_main("generate", "--model", str(tiny_sd15), "--prompt", "x", env_home=tmp_path)
    assert no_out.returncode == 2 and "--out" in no_out.stderr
