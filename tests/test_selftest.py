"""`main.py --selftest` in a child process: OK on a sound installation, and a damaged one names what broke."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop.core.params import SCHEDULERS

ROOT = Path(__file__).resolve().parents[1]


def _selftest(tmp_path, *args, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "ATELIER_HOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["HOME"] = str(tmp_path / "user-home")  # proves the user's own folders are left alone
    env["TMPDIR"] = str(tmp_path / "tmp")
    for variable in ("HF_HOME", "HF_HUB_CACHE", "HF_XET_CACHE", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
                     "XDG_DATA_HOME", "TORCHINDUCTOR_CACHE_DIR"):
        env.pop(variable, None)  # the defaults under HOME and TMPDIR, as on a user's machine
    (tmp_path / "user-home").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_selftest_passes_end_to_end_through_the_window_and_the_lane(tmp_path):
    kept = tmp_path / "kept"
    result = _selftest(tmp_path, "selftest", "--keep", str(kept))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("SELFTEST OK")
    for step in ("diffusers pipelines and models", "transformers chat architectures", f"samplers: {len(SCHEDULERS)} samplers",
                 "image codecs: PNG, JPEG, WebP", "sqlite3: SQLite", "single-file checkpoint", "TAESD",
                 "first-run welcome: shown with no models", "generate through the window: 64x64 on the canvas",
                 "img2img", "inpaint", "SDXL", "chat reply"):
        assert any(line.startswith(f"ok    {step}") for line in lines), f"{step} missing:\n{result.stdout}"
    # everything happened in the scratch folder: the user's own home holds no settings
    assert (kept / "models" / "tiny-sd15" / "model_index.json").exists()
    assert list((kept / "home" / "outputs").rglob("*.png"))
    # nothing at all outside the scratch folder: no settings, no library caches or logs (xet, torch)
    assert [str(p) for p in (tmp_path / "user-home").rglob("*")] == []
    assert [str(p) for p in (tmp_path / "tmp").rglob("*")] == []


def test_a_damaged_installation_fails_and_names_the_module_that_could_not_load(tmp_path):
    # a torch whose native library is gone, as when a bundle lost libtorch_cpu.so
    broken = tmp_path / "broken-site"
    (broken / "torch").mkdir(parents=True)
    (broken / "torch" / "__init__.py").write_text(
        "raise ImportError('libtorch_cpu.so: cannot open shared object file: No such file or directory')\n")
    result = _selftest(tmp_path, "--selftest", extra_path=broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SELFTEST OK" not in result.stdout
    assert "SELFTEST FAILED" in result.stdout
    assert "FAIL  torch: libtorch_cpu.so: cannot open shared object file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    scratch = Path(result.stdout.splitlines()[0].rsplit("working in ", 1)[1])
    assert not scratch.exists()  # removed afterwards, even after failures
