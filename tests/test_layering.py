"""The layering rules are checked by a machine: import-linter contracts plus what it cannot express."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_worker_uses_no_widgets_or_gui_classes():
    pattern = re.compile(r"^\s*(from|import)\s+PySide6\.(QtWidgets|QtGui)", re.M)
    offenders = [p for p in (ROOT / "desktop" / "worker").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
