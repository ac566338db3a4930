"""Before Qt starts on Linux: name a missing system library and the package that provides it.

Without this check a missing library ends in Qt's generic "no Qt platform plugin could be
initialized" abort (or an ImportError about libGL), which tells an artist nothing. The bundle
carries Qt and most of its helpers, but relies on the system for the display stack (libGL,
libxcb, fontconfig); those are what a minimal or unusual Linux install can lack.

No Qt import here: this runs before PySide6 is loaded, so it can speak when Qt cannot.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

# soname -> (Debian/Ubuntu package, Fedora package, Arch package)
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libz.so.1": ("zlib1g", "zlib", "zlib"),
}
_NOT_FOUND = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


@dataclass(frozen=True)
class MissingLibrary:
    """A system library that a Qt file needs and this machine cannot load."""

    soname: str
    needed_by: str

    @property
    def packages(self) -> tuple[str, str, str]:
        stem = self.soname.split(".so")[0]
        return PACKAGES.get(self.soname, (stem, stem, stem.removeprefix("lib")))


def elf_needed(path: str | Path) -> list[str]:
    """The DT_NEEDED entries of a 64-bit little-endian ELF file (what `readelf -d` lists).

    Reads only the headers, the dynamic section and its string table: Qt's libraries are 10 MB each
    and this runs on every start.
    """
    with open(path, "rb") as file:
        head = file.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return []
        e_shoff, = struct.unpack_from("<Q", head, 0x28)
        e_shentsize, e_shnum = struct.unpack_from("<HH", head, 0x3A)
        file.seek(e_shoff)
        table = file.read(e_shentsize * e_shnum)
        sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * e_shentsize) for i in range(e_shnum)]
        needed = []
        for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
            if kind != 6:  # SHT_DYNAMIC
                continue
            file.seek(offset)
            dynamic = file.read(size)
            strings_offset, strings_size = sections[link][4], sections[link][5]
            file.seek(strings_offset)
            strings = file.read(strings_size)
            for at in range(0, len(dynamic) - 15, entsize or 16):
                tag, value = struct.unpack_from("<qQ", dynamic, at)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED: an offset into the linked string table
                    needed.append(strings[value:strings.index(b"\0", value)].decode())
    return needed


def qt_folder() -> Path | None:
    """PySide6's Qt folder (libraries and plugins), found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "Qt"
    return folder if folder.is_dir() else None


def qt_files(qt: Path, xcb: bool) -> list[Path]:
    names = ["lib/libQt6Core.so.6", "lib/libQt6Gui.so.6", "lib/libQt6Widgets.so.6"]
    if xcb:
        names += ["plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6"]
    return [qt / name for name in names if (qt / name).exists()]


def _system_load(soname: str) -> None:
    ctypes.CDLL(soname)


def missing_libraries(files: Iterable[Path], bundled: Iterable[Path],
                      load: Callable[[str], None] = _system_load) -> list[MissingLibrary]:
    """Libraries the files need that are neither bundled nor loadable from the system."""
    bundled = [Path(b) for b in bundled]
    missing: dict[str, MissingLibrary] = {}
    for file in files:
        for soname in elf_needed(file):
            if soname in missing or any((folder / soname).exists() for folder in [file.parent, *bundled]):
                continue
            try:
                load(soname)
            except OSError as error:
                # a library that is present but lacks one of its own dependencies names that one
                found = _NOT_FOUND.search(str(error))
                name = found.group(1) if found else soname
                missing.setdefault(name, MissingLibrary(name, file.name))
    return list(missing.values())


def will_use_xcb(env) -> bool:
    """Whether Qt will try its X11 (xcb) platform plugin first."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].strip().startswith("xcb")
    return not env.get("WAYLAND_DISPLAY")  # in a Wayland session Qt tries its Wayland plugin first


def describe_missing(missing: list[MissingLibrary]) -> str:
    names = "\n".join(f"  {m.soname} (needed by {m.needed_by})" for m in missing)
    apt = " ".join(dict.fromkeys(m.packages[0] for m in missing))
    dnf = " ".join(dict.fromkeys(m.packages[1] for m in missing))
    pacman = " ".join(dict.fromkeys(m.packages[2] for m in missing))
    return (
        "Atelier cannot open its window: this machine lacks system libraries that Qt needs:\n"
        f"{names}\n"
        "Install them, then start Atelier again:\n"
        f"  Debian/Ubuntu:  sudo apt install {apt}\n"
        f"  Fedora:         sudo dnf install {dnf}\n"
        f"  Arch:           sudo pacman -S {pacman}\n"
        "(Headless commands such as 'atelier generate' need none of them.)"
    )


def platform_problem(env=None, load: Callable[[str], None] = _system_load) -> str:
    """Empty when Qt can start here; otherwise what is wrong and how to fix it, in plain words."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return ""
    qt = qt_folder()
    if qt is None:
        return "Atelier's Qt libraries are missing (PySide6 not found): reinstall Atelier."
    xcb = will_use_xcb(env)
    if xcb and not env.get("DISPLAY"):
        return ("Atelier found no display to open its window on (DISPLAY is not set). Start it from a "
                "desktop session; on a server, headless commands such as 'atelier generate' still work, "
                "and 'atelier --selftest' runs without a display.")
    bundled = [qt / "lib", Path(getattr(sys, "_MEIPASS", qt / "lib"))]
    missing = missing_libraries(qt_files(qt, xcb), bundled, load)
    return describe_missing(missing) if missing else ""
