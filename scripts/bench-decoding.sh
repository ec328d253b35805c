#!/usr/bin/env bash
# Decoding speed: sentences/s of `s2s translate` on Multi30k test_2016_flickr (1,000 English
# sentences), greedy and beam 5, batch 1 and batched, 2 BLAS threads, with peak RSS; side by
# side with the plain-PyTorch peer's greedy decoding at the same size (E 256, H 512, 8k vocab).
#
# Usage: scripts/bench-decoding.sh S2S_BIN CORPUS_DIR WORK_DIR MODEL
#   S2S_BIN     the s2s binary (`make build` → .build/release/s2s)
#   CORPUS_DIR  ../shared/corpora/multi30k-en-fr (holds test_2016_flickr.en)
#   WORK_DIR    scratch directory for outputs and timing logs
#   MODEL       a trained model file (E 256, H 512, ~8k vocabulary for a fair comparison)
# Needs: GNU time at /usr/bin/time (apt-get install time); for the peer, a Python with torch
#   (pip install torch) at $PYTHON (default python3) and the peer script at
#   $PEER (default ../shared/peers/torch_gru_s2s.py). Run on an idle machine.
# Goals: beam 5 batched ≥ 100 sent/s, greedy batched ≥ 500 sent/s, beam 5 batch 1 ≤ 30 ms/sentence
#   (the "interactive" rows: a sentence's latency when it is the only one in flight; the batch-1
#   rows instead time the whole file, where two sentences decode side by side, one per thread).
# MODES (default "fp32 int8 shortlist int8+shortlist") also times `--int8` and `--shortlist`
#   (the model's shortlist, learned on train.en/train.fr with `s2s shortlist` when it has none),
#   and scores every mode's greedy and beam-5 output (BLEU, chrF2) with a paired bootstrap
#   against fp32.
# ONMT_MODEL (an OpenNMT-py checkpoint on MODEL's pieces: scripts/opennmt-setup.sh + onmt_train)
#   adds OpenNMT-py's onmt_translate (greedy and beam 5 at batch 64, beam 5 at batch 1), timed the
#   same way (whole process, model loading included; it reads and writes pieces, so s2s's
#   subword encoding and decoding are work it is spared). ONMT_VOCAB: the pieces' vocabulary
#   (default MODEL's folder/vocab.s2sv).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"; model="$4"; trained_model="$4"
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

# The shortlisted modes read the model's shortlist; learn one into a copy when it has none.
modes="${MODES:-fp32 int8 shortlist int8+shortlist}"
if [[ " $modes " == *shortlist* ]] && ! "$s2s" info "$model" | grep -q '^shortlist'; then
    "$s2s" shortlist "$corpus/train.en" "$corpus/train.fr" -m "$model" -o "$work/listed.s2s" --quiet
    model="$work/listed.s2s"
fi
flags() { case "$1" in fp32) ;; int8) echo --int8 ;; shortlist) echo --shortlist ;; int8+shortlist) echo --int8 --shortlist ;; esac; }

echo "## decoding: s2s translate on test_2016_flickr.en ($sentences sentences), 2 threads"
echo
echo "| run | sent/s | ms/sent | peak RSS MB |"
echo "|---|---:|---:|---:|"
run "greedy-batch1"            --beam 1 --batch 1
run "greedy-batch$batched"     --beam 1 --batch "$batched"
run "beam5-batch1"             --beam 5 --batch 1
run "beam5-batch$batched"      --beam 5 --batch "$batched"
for mode in $modes; do
    [ "$mode" = fp32 ] && continue
    # shellcheck disable=SC2046
    run "$mode-greedy-batch$batched" --beam 1 --batch "$batched" $(flags "$mode")
    # shellcheck disable=SC2046
    run "$mode-beam5-batch$batched" --beam 5 --batch "$batched" $(flags "$mode")
done

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
for mode in $modes; do
    [ "$mode" = fp32 ] && continue
    # shellcheck disable=SC2046
    latency "$mode-beam5-interactive" "${LATENCY_SENTENCES:-300}" --beam 5 $(flags "$mode")
done

# Quality of every mode: BLEU and chrF2 of its greedy and beam-5 batched output, and a paired
# bootstrap of its BLEU against fp32's (sacreBLEU's test: 1000 resamples).
echo
echo "| mode | search | BLEU | chrF2 | vs fp32 (paired bootstrap) |"
echo "|---|---|---:|---:|---|"
reference="$corpus/test_2016_flickr.fr"
for search in "greedy:beam1" "beam5:beam5"; do
    label="${search%%:*}"; file="${search#*:}"; [ "$file" = beam1 ] && file=greedy
    base="$work/decoding-$file-batch$batched.out"
    for mode in $modes; do
        out="$base"; [ "$mode" = fp32 ] || out="$work/decoding-$mode-$file-batch$batched.out"
        bleu=$("$s2s" eval --bleu -r "$reference" "$out" | sed -n 's/^BLEU[^=]* = \([0-9.]*\).*/\1/p')
        chrf=$("$s2s" eval --chrf -r "$reference" "$out" | sed -n 's/^chrF2.* = \([0-9.]*\).*/\1/p')
        test="-"
        [ "$mode" = fp32 ] || test=$("$s2s" eval --bleu -r "$reference" "$base" --paired-bs "$out" | grep -m1 -o 'p = [0-9.]*' || echo "?")
        echo "| $mode | $label | $bleu | $chrf | $test |"
    done
done
ls -l "$model" | awk '{ printf "\nmodel file %s: %.1f MB\n", $9, $5 / 1048576 }'

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

if [ -n "${ONMT_MODEL:-}" ]; then
    vocab="${ONMT_VOCAB:-$(dirname "$trained_model")/vocab.s2sv}"
    "$s2s" encode -v "$vocab" "$source_file" > "$work/test.sp"
    for setting in "greedy:1:$batched" "beam5:5:$batched" "beam5:5:1"; do
        IFS=: read -r label beam batch <<< "$setting"
        log="$work/decoding-onmt-$label-$batch.time" out="$work/decoding-onmt-$label-$batch.out"
        start=$(date +%s.%N)
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 OMP_NUM_THREADS=2 /usr/bin/time -v "$(dirname "$python")/onmt_translate" \
            -model "$ONMT_MODEL" -src "$work/test.sp" -output "$out" -beam_size "$beam" -batch_size "$batch" \
            -batch_type sents > /dev/null 2> "$log"
        end=$(date +%s.%N)
        [ "$(wc -l < "$out")" -eq "$sentences" ] || { echo "bench-decoding: onmt_translate wrote $(wc -l < "$out") lines" >&2; exit 1; }
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        awk -v n="$label-batch$batch" -v s="$sentences" -v a="$start" -v b="$end" -v r="$rss" 'BEGIN {
            t = b - a; printf "| onmt_translate %-15s | %9.1f | %8.2f | %7.0f |\n", n, s / t, 1000 * t / s, r / 1024 }'
    done
fi
