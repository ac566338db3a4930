"""The start-up check that names a missing system library (and its package) before Qt can abort."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import platform_check
from desktop.platform_check import MissingLibrary, describe_missing, elf_needed, missing_libraries, qt_files

ROOT = Path(__file__).resolve().parents[1]
QT = platform_check.qt_folder()
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or QT is None, reason="Linux with PySide6")


def test_reads_the_libraries_qts_x11_plugin_needs_as_readelf_does():
    plugin = QT / "plugins" / "platforms" / "libqxcb.so"
    needed = elf_needed(plugin)
    assert {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxcb.so.1"} <= set(needed)
    if shutil.which("readelf"):
        dynamic = subprocess.run(["readelf", "-d", str(plugin)], capture_output=True, text=True).stdout
        listed = [line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]
        assert needed == listed
    assert elf_needed(ROOT / "main.py") == []  # not an ELF file: nothing, no crash


def fake_elf(path: Path, needed: list[str]) -> Path:
    """A minimal 64-bit little-endian ELF file whose dynamic section lists `needed` (all the checker reads)."""
    strings = b"\0" + b"".join(name.encode() + b"\0" for name in needed)
    offsets = [strings.index(b"\0" + name.encode() + b"\0") + 1 for name in needed]
    dynamic = b"".join(struct.pack("<qQ", 1, offset) for offset in offsets) + struct.pack("<qQ", 0, 0)
    strings_at = 64
    dynamic_at = strings_at + len(strings)
    sections_at = dynamic_at + len(dynamic)
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x28, sections_at)
    struct.pack_into("<HH", header, 0x3A, 64, 3)
    table = (struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
             + struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, strings_at, len(strings), 0, 0, 1, 0)  # SHT_STRTAB
             + struct.pack("<IIQQQQIIQQ", 0, 6, 0, 0, dynamic_at, len(dynamic), 1, 0, 8, 16))  # SHT_DYNAMIC
    path.write_bytes(bytes(header) + strings + dynamic + table)
    return path


def test_the_checker_on_prepared_library_folders(tmp_path):
    """Independent of this machine's libraries: a plugin needing one bundled library, one the system
    loads, one the system lacks, and one whose own dependency is missing."""
    plugins, bundle = tmp_path / "plugins", tmp_path / "lib"
    plugins.mkdir()
    bundle.mkdir()
    plugin = fake_elf(plugins / "libqxcb.so", ["libQt6XcbQpa.so.6", "libxcb.so.1", "libxcb-icccm.so.4",
                                               "libxcb-image.so.0", "libQt6XcbQpa.so.6"])
    fake_elf(bundle / "libQt6XcbQpa.so.6", [])
    assert elf_needed(plugin)[:3] == ["libQt6XcbQpa.so.6", "libxcb.so.1", "libxcb-icccm.so.4"]
    asked = []

    def system(soname: str) -> None:
        asked.append(soname)
        if soname == "libxcb-icccm.so.4":
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
        if soname == "libxcb-image.so.0":
            raise OSError("libxcb-util.so.1: cannot open shared object file: No such file or directory")

    missing = missing_libraries([plugin], [bundle], system)
    assert missing == [MissingLibrary("libxcb-icccm.so.4", "libqxcb.so"), MissingLibrary("libxcb-util.so.1", "libqxcb.so")]
    assert "libQt6XcbQpa.so.6" not in asked  # bundled: never asked of the system
    assert missing_libraries([plugin], [bundle], lambda soname: None) == []  # a machine that has them all
    text = describe_missing(missing)
    assert "sudo apt install libxcb-icccm4 libxcb-util1" in text and "sudo dnf install xcb-util-wm xcb-util" in text


def test_what_this_machine_reports_is_true_of_this_machine():
    """The real Qt and the real loader: whatever is reported missing really does not load, and the report
    names a package for each. (Which libraries a machine has is not for a test to insist on.)"""
    import ctypes

    missing = missing_libraries(qt_files(QT, xcb=True), [QT / "lib"])
    for library in missing:
        with pytest.raises(OSError):
            ctypes.CDLL(library.soname)
        assert all(library.packages)
    problem = platform_check.platform_problem({"DISPLAY": ":0"})
    assert problem == (describe_missing(missing) if missing else "")


def test_a_refused_library_is_named_with_the_package_to_install():
    def load(soname):
        if soname == "libxcb-icccm.so.4":
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")

    problem = platform_check.platform_problem({"DISPLAY": ":0"}, load=load)
    assert "libxcb-icccm.so.4 (needed by libqxcb.so)" in problem
    assert "sudo apt install libxcb-icccm4" in problem and "sudo dnf install xcb-util-wm" in problem
    assert "pacman -S xcb-util-wm" in problem


def test_a_library_lacking_one_of_its_own_dependencies_names_that_one():
    def load(soname):
        if soname == "libxcb-image.so.0":
            raise OSError("libxcb-util.so.1: cannot open shared object file: No such file or directory")

    missing = missing_libraries(qt_files(QT, xcb=True), [QT / "lib"], load)
    assert [m.soname for m in missing] == ["libxcb-util.so.1"]
    assert "sudo apt install libxcb-util1" in describe_missing(missing)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_a_really_missing_library_is_found_by_the_real_loader(tmp_path):
    """Build a library that needs another one, then delete that one: the real dlopen must miss it."""
    (tmp_path / "gone.c").write_text("int gone(void) { return 1; }\n")
    (tmp_path / "user.c").write_text("int gone(void);\nint use(void) { return gone(); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libatelier-gone.so.1", "-o",
                    str(tmp_path / "libatelier-gone.so.1"), str(tmp_path / "gone.c")], check=True)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(tmp_path / "libuser.so"), str(tmp_path / "user.c"),
                    str(tmp_path / "libatelier-gone.so.1")], check=True)
    assert "libatelier-gone.so.1" in elf_needed(tmp_path / "libuser.so")
    (tmp_path / "libatelier-gone.so.1").unlink()
    missing = missing_libraries([tmp_path / "libuser.so"], [])
    assert [m.soname for m in missing if m.soname.startswith("libatelier")] == ["libatelier-gone.so.1"]
    assert missing[-1] == MissingLibrary("libatelier-gone.so.1", "libuser.so")


def test_which_platform_qt_will_try():
    assert platform_check.will_use_xcb({})
    assert platform_check.will_use_xcb({"QT_QPA_PLATFORM": "xcb;wayland"})
    assert not platform_check.will_use_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not platform_check.will_use_xcb({"WAYLAND_DISPLAY": "wayland-0"})


def test_starting_the_window_without_a_display_says_so_instead_of_aborting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["ATELIER_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "found no display" in result.stderr and "--selftest" in result.stderr
    assert "qt.qpa" not in result.stderr and "Aborted" not in result.stderr
