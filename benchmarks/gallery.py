"""Gallery with 10,000 images: time to build the index, to open it, to page, and to search. Prints JSON.

    .venv/bin/python benchmarks/gallery.py [--images 10000] [--keep DIR]

Not a test: it writes thousands of small PNGs (with full Atelier metadata) into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from desktop.core.gallery_index import GalleryIndex  # noqa: E402
from desktop.core.outputs import save_generation  # noqa: E402
from desktop.core.params import GenerationParams  # noqa: E402

WORDS = ("fox whale lighthouse castle forest portrait neon city river mountain dragon teapot garden robot "
         "sunset winter desert ocean library market bridge owl cat harbour").split()
MODELS = ("sd15-base", "dreamshaper-8", "juggernaut-xl", "tiny-sd15")


def _timed(function, repeat: int = 5) -> float:
    """Median milliseconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--keep", help="use (and keep) this folder instead of a temporary one")
    parser.add_argument("--ui", action="store_true", help="also time opening the gallery dock (offscreen Qt)")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="atelier-gallery-bench-"))
    outputs, db = root / "outputs", root / "gallery.db"
    rng = random.Random(0)
    start = time.perf_counter()
    existing = len(list(outputs.glob("*.png"))) if outputs.exists() else 0
    tile = Image.new("RGB", (8, 8), (120, 80, 40))
    for number in range(existing, args.images):
        prompt = ", ".join(rng.sample(WORDS, 4))
        params = GenerationParams(prompt=prompt, seed=number, width=512, height=512)
        save_generation(tile, params, outputs, model_name=rng.choice(MODELS), path=outputs / f"{number:05d}-{number}.png")
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    index = GalleryIndex(db, outputs)
    built = index.sync()
    build_s = time.perf_counter() - start
    index.close()
    start = time.perf_counter()
    index = GalleryIndex(db, outputs)
    first_page = index.search(limit=200)
    total = index.count()
    open_ms = (time.perf_counter() - start) * 1000
    result = {
        "images": total,
        "write_files_s": round(write_s, 1),
        "first_index_build_s": round(build_s, 2),
        "files_indexed": built.added,
        "open_and_first_page_ms": round(open_ms, 2),
        "first_page_rows": len(first_page),
        "sync_unchanged_ms": _timed(index.sync, 3),
        "page_at_offset_9000_ms": _timed(lambda: index.search(limit=200, offset=9000)),
        "count_ms": _timed(index.count),
        "search_one_word_ms": _timed(lambda: index.search("lighthouse", limit=200)),
        "search_one_word_count_ms": _timed(lambda: index.count("lighthouse")),
        "search_two_words_prefix_ms": _timed(lambda: index.search("neon ci", limit=200)),
        "search_word_and_model_ms": _timed(lambda: index.search("fox", model="juggernaut-xl", limit=200)),
        "favourites_ms": _timed(lambda: index.search(favourite=True, limit=200)),
        "folder": str(root),
    }
    if args.ui:
        result.update(_time_dock(index, root))
    print(json.dumps(result, indent=2))


def _time_dock(index: GalleryIndex, root: Path) -> dict:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.core.thumbnails import ThumbnailCache
    from desktop.ui.gallery_dock import GalleryDock

    app = QApplication.instance() or QApplication([])
    start = time.perf_counter()
    dock = GalleryDock(index, ThumbnailCache(root / "thumbs"))
    dock.resize(460, 760)
    dock.show()
    app.processEvents()
    open_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    dock.search.setText("lighthouse")
    dock._apply_filters()
    app.processEvents()
    search_ms = (time.perf_counter() - start) * 1000
    dock.model.wait_for_background()
    return {"dock_open_and_paint_ms": round(open_ms, 1), "dock_search_and_repaint_ms": round(search_ms, 1)}


if __name__ == "__main__":
    main()
