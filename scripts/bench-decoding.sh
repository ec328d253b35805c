#!/usr/bin/env bash
# Decoding speed: sentences/s of `s2s translate` on Multi30k test_2016_flickr (1,000 English
# sentences), greedy and beam 5, batch 1 and batched, 2 BLAS threads, with peak RSS; side by
# side with the plain-PyTorch peer's greedy decoding at the same size (E 256, H 512, 8k vocab).
#
# Usage: scripts/bench-decoding.sh S2S_BIN CORPUS_DIR WORK_DIR MODEL
#   S2S_BIN     a release build of s2s (swift build -c release → .build/release/s2s)
#   CORPUS_DIR  ../shared/corpora/multi30k-en-fr (holds test_2016_flickr.en)
#   WORK_DIR    scratch directory for outputs and timing logs
#   MODEL       a trained model file (E 256, H 512, ~8k vocabulary for a fair comparison)
# Needs: GNU time at /usr/bin/time (apt-get install time); for the peer, a Python with torch
#   (pip install torch) at $PYTHON (default python3) and the peer script at
#   $PEER (default ../shared/peers/torch_gru_s2s.py). Run on an idle machine.
# Goals: beam 5 batched ≥ 100 sent/s, greedy batched ≥ 500 sent/s, beam 5 batch 1 ≤ 30 ms/sentence
#   (the "interactive" rows: a sentence's latency when it is the only one in flight; the batch-1
#   rows instead time the whole file, where two sentences decode side by side, one per thread).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"; model="$4"
python="${PYTHON:-python3}"
peer="${PEER:-$(cd "$(dirname "$0")/.." && pwd)/../shared/peers/torch_gru_s2s.py}"
source_file="$corpus/test_2016_flickr.en"
batched="${BATCH:-64}"
[ -f "$source_file" ] || { echo "bench-decoding: $source_file not found" >&2; exit 1; }
[ -f "$model" ] || { echo "bench-decoding: model $model not found" >&2; exit 1; }
mkdir -p "$work"
sentences=$(wc -l < "$source_file")

# run NAME ARGS…: translates the test set once, checks the line count, prints one table row.
run() {
    local name="$1"; shift
    local out="$work/decoding-$name.out" log="$work/decoding-$name.time"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v "$s2s" translate -m "$model" --threads 2 --quiet "$@" < "$source_file" > "$out" 2> "$log"
    end=$(date +%s.%N)
    local lines rss
    lines=$(wc -l < "$out")
    [ "$lines" -eq "$sentences" ] || { echo "bench-decoding: $name wrote $lines lines for $sentences" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    awk -v n="$name" -v s="$sentences" -v a="$start" -v b="$end" -v r="$rss" 'BEGIN {
        t = b - a; printf "| s2s %-22s | %9.1f | %8.2f | %7.0f |\n", n, s / t, 1000 * t / s, r / 1024 }'
}

# The products of one decoder step at the standard size: OpenBLAS on the plain weights vs our
# kernels on packed copies (what `translate` uses up to PackedMatrix.rowLimit rows).
for threads in 1 2; do
    echo "## decoder-step products, $threads thread(s): OpenBLAS vs packed weights"
    "$s2s" bench products --threads "$threads" --rows 1,5,12,64,128,320
    echo
done

echo "## decoding: s2s translate on test_2016_flickr.en ($sentences sentences), 2 threads"
echo
echo "| run | sent/s | ms/sent | peak RSS MB |"
echo "|---|---:|---:|---:|"
run "greedy-batch1"            --beam 1 --batch 1
run "greedy-batch$batched"     --beam 1 --batch "$batched"
run "beam5-batch1"             --beam 5 --batch 1
run "beam5-batch$batched"      --beam 5 --batch "$batched"

# Interactive latency: one line written, its translation awaited, then the next, as a user
# typing at the terminal would (the stream flushes a partial batch when stdin has no more):
# the time from writing a line to reading its translation, mean over the first N sentences.
latency() {
    local name="$1" count="$2"; shift 2
    local total=0 line answer start
    coproc S2S { exec "$s2s" translate -m "$model" --threads 2 --quiet "$@"; }
    while IFS= read -r line; do
        start=$EPOCHREALTIME
        printf '%s\n' "$line" >&"${S2S[1]}"
        IFS= read -r answer <&"${S2S[0]}"
        total=$(awk -v t="$total" -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + b - a }')
    done < <(head -n "$count" "$source_file")
    exec {S2S[1]}>&-
    wait "$S2S_PID"
    awk -v n="$name" -v c="$count" -v t="$total" 'BEGIN {
        printf "| s2s %-22s | %9.1f | %8.2f |         |\n", n, c / t, 1000 * t / c }'
}
latency "beam5-interactive" "${LATENCY_SENTENCES:-300}" --beam 5
latency "greedy-interactive" "${LATENCY_SENTENCES:-300}" --beam 1

# The peer: greedy decoding of random batches (it never stops early at </s>), batch 64,
# 16 source and 18 target tokens — roughly a Multi30k sentence.
if [ -x "$python" ] && [ -f "$peer" ]; then
    log="$work/decoding-torch.time"
    result=$(/usr/bin/time -v "$python" "$peer" --mode greedy --batch "$batched" --threads 2 \
        --vocab 8000 --emb 256 --hidden 512 --src-len 16 --tgt-len 18 2> "$log" \
        | awk -F= '/torch_greedy_sents_per_s/ {print $2}')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    awk -v b="$batched" -v v="$result" -v r="$rss" 'BEGIN {
        printf "| torch greedy-batch%s (peer) | %9.1f | %8.2f | %7.0f |\n", b, v, 1000 / v, r / 1024 }'
else
    echo "| torch peer | (not run: $python or $peer missing) | | |"
fi
