#!/usr/bin/env bash
# The main job on the real default corpus (Multi30k En→Fr). Usage: demo.sh S2S_BIN CORPUS_DIR WORK_DIR
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
mkdir -p "$work"
echo "== demo: corpus $corpus" >&2
