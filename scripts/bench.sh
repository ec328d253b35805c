#!/usr/bin/env bash
# Side-by-side benchmarks against the peers. Usage: bench.sh S2S_BIN CORPUS_DIR WORK_DIR
# Each section prints its figures; copy them into BENCHMARKS.md with this command.
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
