#!/usr/bin/env bash
# Sets up .venv once (and again when pyproject.toml changes): torch's CPU wheel first, then Atelier.
# Usage: scripts/setup.sh [extra]   (extra: test, package)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3}"
stamp=".venv/.installed${extra:+-$extra}"
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: a looser requirement pulls a multi-GB CUDA build (README, "Installing").
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".${extra:+[$extra]}"
# spandrel without its dependencies: it declares torchvision, which cannot work beside this torch (README,
# "Installing"); its other dependencies (einops, typing_extensions, safetensors, numpy) are in pyproject.toml.
.venv/bin/python -m pip install --quiet --no-deps "spandrel==0.4.2"
touch "$stamp"
