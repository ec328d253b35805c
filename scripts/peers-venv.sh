#!/usr/bin/env bash
# Makes (once) the Python environment the benchmarks' peers run in — PyTorch (CPU),
# sacreBLEU, SentencePiece, numpy — in .venv-peers/ (git-ignored), and prints its python.
# The CPU PyTorch wheel comes from /opt/wheels when the machine ships one, else from PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${PEERS_VENV:-$here/.venv-peers}"
if ! "$venv/bin/python" -c "import torch, sacrebleu, sentencepiece, numpy" 2>/dev/null; then
  echo "bench: setting up the peers' Python environment in $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >/dev/null
  wheel=$(ls /opt/wheels/torch-*+cpu*.whl 2>/dev/null | head -1 || true)
  if [ -n "$wheel" ]; then
    "$venv/bin/pip" install -q --no-deps "$wheel"
    "$venv/bin/pip" install -q --upgrade filelock typing_extensions sympy networkx jinja2 fsspec "setuptools>=77"
  else
    "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu || "$venv/bin/pip" install -q torch
  fi
  "$venv/bin/pip" install -q numpy sacrebleu sentencepiece
fi
echo "$venv/bin/python"
