"""The benchmark harness runs and reports every figure: no timing is asserted, only that it works.

The full quick run takes about two minutes, so these run cheap sections and the tiny UNet path.
"""

import json

import pytest

from benchmarks import __main__ as harness
from benchmarks import unet
from benchmarks.figures import Context


@pytest.fixture(scope="module")
def bench_models(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-models")


def test_every_required_figure_has_a_section():
    import importlib

    produced = set()
    for name in harness.SECTIONS:
        produced.update(importlib.import_module(f"benchmarks.{name}").KEYS)
    assert set(harness.REQUIRED) <= produced
    assert {"overhead_ratio", "first_preview_s", "preview_share", "load_ratio"} <= produced


def test_quick_run_of_cheap_sections_writes_json_with_values_or_reasons(bench_models, tmp_path, capsys):
    out = tmp_path / "latest.json"
    assert harness.main(["--quick", "--only", "chat", "--only", "unet", "--only", "gpu", "--repeats", "1",
                         "--output", str(out), "--models", str(bench_models)]) == 0
    result = json.loads(out.read_text())
    figures = result["figures"]
    assert result["mode"] == "quick" and result["machine"]["cpus"] >= 1
    for key in ("chat_ttft_overhead_ms", "chat_tps_ratio"):
        assert isinstance(figures[key]["value"], float) and figures[key]["how"]
    for key in unet.KEYS:  # real size only in the full mode: null, with the reason
        assert figures[key]["value"] is None and "full mode" in figures[key]["how"]
    assert "chat_tps_ratio" in capsys.readouterr().out


def test_unet_section_measures_a_tiny_unet_and_counts_its_flops():
    r = unet.child("tiny", 64, 1)
    assert r["flops"] > 1e6 and set(r["times_s"]) == {"fp32", "channels_last"}
    figures = unet.figures_from(r, Context(), size=64)
    assert figures["unet_gflops"].value > 0 and 0 < figures["unet_peak_share"].value


def test_startup_probe_reports_the_first_paint(tmp_path):
    from benchmarks.startup import spawn_once

    seconds = spawn_once("paint", None, tmp_path)
    assert 0 < seconds < 120


def test_markdown_report_lists_every_figure(tmp_path):
    from benchmarks.figures import Figure, machine
    from benchmarks.report import markdown

    result = {"mode": "quick", "started": "now", "seconds": 1.0, "machine": machine(),
              "figures": {"load_ratio": Figure(1.2, "x", "how", "<= 1.05", False).as_dict(),
                          "unet_gflops": Figure(None, how="full mode only").as_dict()}}
    text = markdown(result)
    assert "| `load_ratio` | 1.2 x | <= 1.05 | **no** |" in text and "| `unet_gflops` | null |" in text


def test_steering_section_times_a_control_and_two_regions_against_a_plain_step():
    from benchmarks import steering

    r = steering.child("tiny", 64, 1)
    assert {name: len(times) for name, times in r["times_s"].items()} == {"plain": 1, "control": 1, "regions": 1}
    figures = steering.figures_from(r, "tiny")
    assert set(figures) == set(steering.KEYS) and all(f.value > 0 for f in figures.values())
