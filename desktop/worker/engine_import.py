"""Import torch, diffusers and transformers on the lane thread without freezing the window.

Measured here (benchmarks/RESULTS.md): importing them on the lane held the GIL for up to 590 ms at a
time, in two ways. (1) The extension modules' dlopen (libtorch_cpu, libtorch_python: relocations and
thousands of static operator registrations) runs inside Python's import, under the GIL. Opening those
libraries first with dlopen called through ctypes runs the same work with the GIL released (ctypes
releases it around every foreign call); the import then finds them already loaded. (2) The cyclic
garbage collector: the imports create about a million objects, and each full collection over them
held the GIL for 100-400 ms. The collector is off while they import; afterwards everything they made
is frozen (gc.freeze: long-lived, never scanned again), as ImageEngine.load does after a load.
With both, the longest GUI-thread wait measured during the imports fell from ~250 ms to under 30 ms.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import importlib.util
import sys
import threading
from pathlib import Path

_RTLD_NOW_GLOBAL = 0x002 | 0x100  # RTLD_NOW | RTLD_GLOBAL (Linux and macOS values agree on these)
_LIBRARIES = ("libc10", "libtorch_cpu", "libtorch", "libtorch_python")
_lock = threading.Lock()
_done: set[str] = set()
# what the image and chat engines touch first; diffusers and transformers import their classes lazily,
# on first attribute access, so naming the classes is what makes the heavy part happen here
IMAGE_MODULES = {
    "torch": (),
    "diffusers": ("DiffusionPipeline", "StableDiffusionPipeline", "StableDiffusionXLPipeline", "AutoencoderKL",
                  "AutoencoderTiny", "UNet2DConditionModel", "EulerAncestralDiscreteScheduler"),
    "transformers": ("CLIPTextModel", "CLIPTextModelWithProjection", "CLIPTokenizer"),
}
CHAT_MODULES = {"torch": (), "transformers": ("AutoModelForCausalLM", "AutoTokenizer", "TextIteratorStreamer")}


def preload_torch_libraries() -> list[str]:
    """dlopen torch's shared libraries with the GIL released; returns the ones opened (none off Linux/macOS)."""
    if sys.platform not in ("linux", "darwin"):
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return []
    dlopen.argtypes, dlopen.restype = (ctypes.c_char_p, ctypes.c_int), ctypes.c_void_p
    opened = []
    for stem in _LIBRARIES:
        for path in sorted(lib.glob(stem + (".so" if sys.platform == "linux" else ".dylib"))):
            if dlopen(str(path).encode(), _RTLD_NOW_GLOBAL):  # a foreign call: the GIL is free meanwhile
                opened.append(path.name)
    return opened


def import_engine_modules(modules: dict[str, tuple[str, ...]] = IMAGE_MODULES) -> None:
    """Import the engine's libraries (and the classes named) once, on the calling lane thread, GUI-friendly."""
    with _lock:
        wanted = [f"{module}.{name}" for module, names in modules.items() for name in names or ("",)]
        if all(item in _done for item in wanted):
            return
        collecting = gc.isenabled()
        gc.disable()
        try:
            preload_torch_libraries()
            for module, names in modules.items():
                loaded = importlib.import_module(module)
                for name in names:
                    getattr(loaded, name)
        finally:
            gc.freeze()  # what the imports made lives as long as the app: keep the collector off it
            if collecting:
                gc.enable()
        _done.update(wanted)
