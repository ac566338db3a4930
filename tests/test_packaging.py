"""The files the bundle ships with: a valid menu entry, icons at every size, a working menu installer,
and build scripts and recipes that at least parse (the bundle itself is built by `make bundle`)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"


def test_the_desktop_entry_is_valid_and_points_at_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(RESOURCES / "atelier.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Exec"] == "Atelier" and section["Icon"] == "atelier"
    assert "Graphics" in section["Categories"].split(";")
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(RESOURCES / "atelier.desktop")],
                                capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_icon_renders_exist_at_every_size_and_are_not_empty():
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        image = Image.open(RESOURCES / "icons" / f"atelier-{size}.png")
        assert image.size == (size, size) and image.mode == "RGBA"
        assert image.getpixel((size // 2, size // 2))[3] == 255  # the palette covers the middle
        assert image.getpixel((0, 0))[3] == 0  # rounded corner: transparent
    assert Image.open(RESOURCES / "icons" / "atelier.ico").format == "ICO"


def test_render_icons_redraws_the_pngs_from_the_svg(qapp, tmp_path):  # qapp: one QApplication per run
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from render_icons import render
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    written = render(RESOURCES / "icons" / "atelier.svg", tmp_path, sizes=(48,))
    fresh, committed = Image.open(written[0]), Image.open(RESOURCES / "icons" / "atelier-48.png")
    assert fresh.size == committed.size
    difference = sum(abs(a - b) for a, b in zip(fresh.tobytes(), committed.tobytes())) / len(fresh.tobytes())
    assert difference < 2  # the committed PNGs are what the SVG draws


def _fake_bundle(parent: Path) -> Path:
    """The layout of dist/Atelier: the binary, and resources under _internal/."""
    bundle = parent / "My Apps" / "Atelier"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copytree(RESOURCES, bundle / "_internal" / "resources")
    (bundle / "Atelier").write_text("#!/bin/sh\necho atelier\n")
    (bundle / "Atelier").chmod(0o755)
    shutil.copy(ROOT / "packaging" / "linux" / "install-menu-entry.sh", bundle / "install-menu-entry.sh")
    return bundle


@pytest.mark.skipif(sys.platform != "linux", reason="Linux menu entries")
def test_the_menu_installer_writes_a_valid_entry_for_a_folder_with_spaces_and_removes_it(tmp_path):
    bundle = _fake_bundle(tmp_path)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run([str(bundle / "install-menu-entry.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    desktop = tmp_path / "data" / "applications" / "atelier.desktop"
    text = desktop.read_text()
    assert f'Exec="{bundle}/Atelier"' in text and f"TryExec={bundle}/Atelier" in text
    assert (tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps" / "atelier.png").exists()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout == "", check.stdout
    subprocess.run([str(bundle / "install-menu-entry.sh"), "--uninstall"], env=env, check=True,
                   capture_output=True)
    assert not desktop.exists()
    assert not (tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps" / "atelier.png").exists()


def test_build_scripts_and_recipes_parse():
    for script in ("build.sh", "smoke.sh", "linux/install-menu-entry.sh", "linux/AppRun", "macos/build_app.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "packaging" / script)], check=True)
        assert os.access(ROOT / "packaging" / script, os.X_OK), f"{script} is not executable"
    compile((ROOT / "packaging" / "atelier.spec").read_text(), "atelier.spec", "exec")
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "bundle.yml").read_text())
    assert set(workflow["jobs"]) == {"linux", "windows", "macos"}
    iss = (ROOT / "packaging" / "windows" / "atelier.iss").read_text()
    for line in iss.splitlines():  # files the installer script names exist relative to it
        if line.startswith("SetupIconFile="):
            assert (ROOT / "packaging" / "windows" / line.split("=", 1)[1].replace("\\", "/")).exists()
