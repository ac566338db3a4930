"""`python -m benchmarks.report [latest.json]`: the results as a Markdown table (for RESULTS.md / README)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.figures import RESULTS


def machine_line(machine: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    return (f"{machine.get('cpu_model', 'unknown CPU')}, {machine.get('cpus')} cores at "
            f"{machine.get('cpu_mhz', 0):.0f} MHz ({'+'.join(machine.get('simd', []))}), "
            f"{machine.get('ram_gib')} GiB RAM, no GPU used; Python {machine.get('python')}, {versions}")


def markdown(result: dict) -> str:
    lines = [f"Mode: {result['mode']}, {result['started']}, {result['seconds']:.0f} s. "
             f"Machine: {machine_line(result['machine'])}.", "",
             "| figure | value | target | met |", "|---|---|---|---|"]
    for key, fig in result["figures"].items():
        value = "null" if fig["value"] is None else f"{fig['value']:.4g} {fig['unit']}".strip()
        met = {True: "yes", False: "**no**", None: "-"}[fig["met"]]
        lines.append(f"| `{key}` | {value} | {fig['target']} | {met} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else RESULTS / "latest.json"
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
