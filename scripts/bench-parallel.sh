#!/usr/bin/env bash
# Training throughput on the real Multi30k run with the defaults (standard model, 2000-token
# batches, layer normalization, dropout), side by side in one run, alternating ROUNDS times:
#   - one worker on multi-threaded BLAS (`--workers 1`, s2s's step before data-parallel workers);
#   - `--workers N` (N = the cores) in one process;
#   - `mpirun -np N s2s train --workers 1` (one rank per core, over shared memory);
#   - optionally BASELINE_BIN (another s2s binary, e.g. an earlier commit) with its defaults;
#   - with PYTHON set (a python with torch, scripts/peers-venv.sh), OpenNMT-py's onmt_train with
#     the configuration of scripts/opennmt-setup.sh (the same subwords, batch size and family),
#     its tokens/s read from its log's last report.
# Each run makes UPDATES updates; the figure is the target tokens/s of its log's last report
# (the updates after the first quarter, so start-up is left out), with peak RSS from GNU time.
#
# usage: scripts/bench-parallel.sh S2S_BIN CORPUS WORK [ROUNDS] [UPDATES]
set -euo pipefail
bin="$1"; corpus="$2"; work="$3"; rounds="${4:-2}"; updates="${5:-80}"
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
cores=$(nproc)
[ -f "$work/vocab.s2sv" ] || "$bin" vocab "$corpus/train.en" "$corpus/train.fr" -o "$work/vocab.s2sv" --quiet
quarter=$((updates / 4))
common=("$corpus/train.en" "$corpus/train.fr" -v "$work/vocab.s2sv" --max-updates "$updates"
        --disp-freq "${quarter}u" --valid-frequency 100000 --save-frequency 100000 --no-valid-bleu --quiet)
tokens() {  # the log's last train report's tokens/s
  sed -n 's/.*"kind":"train".*"targetTokensPerSecond":\([0-9.]*\).*/\1/p' "$1" | tail -1 | cut -d. -f1
}
rss() { grep -h "Maximum resident" "$@" | awk '{ total += $6 } END { printf "%d", total / 1024 }'; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') ($cores cores), $updates updates per run"
printf "%-6s %-34s %12s %14s\n" round run "tgt tok/s" "peak RSS MB"
for round in $(seq "$rounds"); do
  for run in one-worker workers mpirun baseline opennmt; do
    log="$work/$run.jsonl"; rm -f "$log" "$work"/time.*
    case "$run" in
      one-worker) /usr/bin/time -v -o "$work/time.0" "$bin" train "${common[@]}" -o "$work/m.s2s" --log "$log" --workers 1 ;;
      workers) /usr/bin/time -v -o "$work/time.0" "$bin" train "${common[@]}" -o "$work/m.s2s" --log "$log" --workers "$cores" ;;
      mpirun) mpirun -np "$cores" --bind-to core sh -c '/usr/bin/time -v -o "$0/time.$OMPI_COMM_WORLD_RANK" "$@"' \
                "$work" "$bin" train "${common[@]}" -o "$work/m.s2s" --log "$log" --workers 1 ;;
      baseline) [ -n "${BASELINE_BIN:-}" ] || continue
        /usr/bin/time -v -o "$work/time.0" "$BASELINE_BIN" train "${common[@]}" -o "$work/m.s2s" --log "$log" ;;
      opennmt) [ -n "${PYTHON:-}" ] || continue
        onmt_bin="$("$(dirname "$0")/opennmt-setup.sh" "$bin" "$PYTHON" "$corpus" "$work/vocab.s2sv" "$work/onmt" constant \
                    "$updates" "$quarter")"
        /usr/bin/time -v -o "$work/time.0" "$onmt_bin/onmt_train" -config "$work/onmt/config.yaml" > "$work/onmt.log" 2>&1
        # "…; 1067/1229 tok/s; …": source/target tokens per second since the last report.
        sed -n 's|.* \([0-9]*\)/\([0-9]*\) tok/s.*|{"kind":"train","targetTokensPerSecond":\2}|p' "$work/onmt.log" > "$log" ;;
    esac
    label="$run"
    [ "$run" = workers ] && label="--workers $cores"
    [ "$run" = mpirun ] && label="mpirun -np $cores --workers 1"
    [ "$run" = one-worker ] && label="--workers 1 ($cores BLAS threads)"
    [ "$run" = baseline ] && label="baseline binary"
    [ "$run" = opennmt ] && label="OpenNMT-py (torch, $cores threads)"
    printf "%-6s %-34s %12s %14s\n" "$round" "$label" "$(tokens "$log")" "$(rss "$work"/time.*)"
  done
done
