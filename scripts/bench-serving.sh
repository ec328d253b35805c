#!/usr/bin/env bash
# Serving under load: `s2s serve` on loopback, one-sentence LibreTranslate requests of
# Multi30k test_2016_flickr from 1, 8 and 64 concurrent clients (scripts/serve_load.py, each
# client on a keep-alive connection), greedy and beam 5: sentences/s, latency p50/p99, errors,
# answers that differ from `s2s translate`'s, and the server's peak RSS. Beside it, in the
# same run: `s2s translate`'s batched file throughput and its interactive latency (one line
# written, its translation awaited) with the same model, beam and threads — the two figures
# the server is judged against — and OpenNMT-py's onmt_server under the same load, as the peer.
#
# Usage: scripts/bench-serving.sh S2S_BIN CORPUS_DIR WORK_DIR MODEL [ONMT_MODEL]
#   MODEL       an s2s model (E 256, H 512, ~8k vocabulary, as the decoding bench's)
#   ONMT_MODEL  an OpenNMT-py checkpoint of the same size on the same pieces (bench-quality.sh
#               or opennmt-setup.sh makes one; its input is the pieces of `s2s encode` with the
#               model's vocabulary, given as $ONMT_VOCAB, default MODEL's directory/vocab.s2sv).
#               Without it the peer rows are skipped.
# Environment: PYTHON (a Python 3; with flask and waitress for onmt_server, installed here if
#   missing), THREADS (default 2), CLIENTS (default "1 8 64"), SEARCHES (default "1 5"),
#   LATENCY_SENTENCES (default 200; the 1-client rows and the interactive row use this many),
#   SOAK_SECONDS (default 0: no soak; 600 runs the 10-minute soak at 64 clients, mixed good and
#   bad requests, RSS sampled every 10 s).
set -euo pipefail
s2s="$1"; corpus="$2"; work="$3"; model="$4"; onmt_model="${5:-}"
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
threads="${THREADS:-2}"
clients_list="${CLIENTS:-1 8 64}"
searches="${SEARCHES:-1 5}"
latency_count="${LATENCY_SENTENCES:-200}"
source_file="$corpus/test_2016_flickr.en"
[ -f "$source_file" ] || { echo "bench-serving: $source_file not found" >&2; exit 1; }
[ -f "$model" ] || { echo "bench-serving: model $model not found" >&2; exit 1; }
mkdir -p "$work"
head -n "$latency_count" "$source_file" > "$work/latency.en"
sentences=$(wc -l < "$source_file")
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
echo "## serving: $sentences one-sentence requests of test_2016_flickr.en, $threads threads, CPU: $cpu"
echo

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for URL: until it answers 200 (60 s)
    for _ in $(seq 600); do
        "$python" -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('$1', timeout=1).status == 200 else 1)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench-serving: $1 never answered" >&2; return 1
}

# `s2s translate`: the expected outputs, the batched file throughput, the interactive latency.
echo "| s2s translate | beam | sent/s | ms/sent |"
echo "|---|---:|---:|---:|"
for beam in $searches; do
    start=$EPOCHREALTIME
    "$s2s" translate -m "$model" --beam "$beam" --threads "$threads" --quiet < "$source_file" > "$work/expected.beam$beam.fr"
    awk -v b="$beam" -v n="$sentences" -v a="$start" -v z="$EPOCHREALTIME" 'BEGIN {
        printf "| batched file | %d | %.1f | %.2f |\n", b, n / (z - a), 1000 * (z - a) / n }'
    total=0
    coproc S2S { exec "$s2s" translate -m "$model" --beam "$beam" --threads "$threads" --quiet; }
    while IFS= read -r line; do
        start=$EPOCHREALTIME
        printf '%s\n' "$line" >&"${S2S[1]}"
        IFS= read -r answer <&"${S2S[0]}"
        total=$(awk -v t="$total" -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + b - a }')
    done < "$work/latency.en"
    exec {S2S[1]}>&-
    wait "$S2S_PID"
    awk -v b="$beam" -v c="$latency_count" -v t="$total" 'BEGIN {
        printf "| interactive (one line in flight) | %d | %.1f | %.2f |\n", b, c / t, 1000 * t / c }'
done
echo

load() {  # load PORT API CLIENTS SENTENCES EXPECTED [serve_load.py options]
    local port="$1" api="$2" clients="$3" file="$4" expected="$5"; shift 5
    "$python" "$here/serve_load.py" --port "$port" --api "$api" --clients "$clients" --sentences "$file" \
        ${expected:+--expect "$expected"} "$@"
}

echo "| server | beam | clients | answered | sent/s | p50 ms | p99 ms | errors | differ from translate | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for beam in $searches; do
    port=$(free_port)
    "$s2s" serve -m "$model" --languages en:fr --port "$port" --beam "$beam" --threads "$threads" --quiet &
    server=$!
    wait_for "http://127.0.0.1:$port/health"
    for clients in $clients_list; do
        file="$source_file"; [ "$clients" = 1 ] && file="$work/latency.en"
        expected="$work/expected.beam$beam.fr"; [ "$clients" = 1 ] && { head -n "$latency_count" "$expected" > "$work/expected1.fr"; expected="$work/expected1.fr"; }
        load "$port" libre "$clients" "$file" "$expected" --server-pid "$server" --row "s2s serve" "$beam"
    done
    kill -TERM "$server"; wait "$server"
done

if [ -n "$onmt_model" ]; then
    [ -f "$onmt_model" ] || { echo "bench-serving: $onmt_model not found" >&2; exit 1; }
    "$python" -c "import flask, waitress" 2>/dev/null || "$python" -m pip install -q flask waitress >&2
    vocab="${ONMT_VOCAB:-$(dirname "$model")/vocab.s2sv}"
    "$s2s" encode -v "$vocab" "$source_file" > "$work/pieces.en"
    head -n "$latency_count" "$work/pieces.en" > "$work/latency.pieces.en"
    for beam in $searches; do
        port=$(free_port)
        cat > "$work/onmt-server.json" <<EOF
{"models_root": "$(dirname "$onmt_model")",
 "models": [{"id": 0, "model": "$(basename "$onmt_model")", "timeout": -1, "on_timeout": "unload", "load": true,
             "opt": {"gpu": -1, "beam_size": $beam, "batch_size": 64, "max_length": 100}}]}
EOF
        # OpenNMT-py 3.5 predates torch.load's weights_only default.
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 OMP_NUM_THREADS="$threads" "$(dirname "$python")/onmt_server" --ip 127.0.0.1 --port "$port" --url_root /translator \
            --model_config "$work/onmt-server.json" > "$work/onmt-server.log" 2>&1 &
        server=$!
        wait_for "http://127.0.0.1:$port/translator/health"
        for clients in $clients_list; do
            file="$work/pieces.en"; [ "$clients" = 1 ] && file="$work/latency.pieces.en"
            load "$port" onmt "$clients" "$file" "" --server-pid "$server" --row "OpenNMT-py onmt_server (pieces in and out)" "$beam"
        done
        kill -TERM "$server"; wait "$server" 2>/dev/null || true
    done
fi

soak="${SOAK_SECONDS:-0}"
if [ "$soak" != 0 ]; then
    echo
    echo "### soak: ${soak} s at 64 clients, greedy, every 10th request bad (7 kinds in turn)${MALLOC_ARENA_MAX:+, MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX}"
    port=$(free_port)
    "$s2s" serve -m "$model" --languages en:fr --port "$port" --beam 1 --threads "$threads" --quiet &
    server=$!
    wait_for "http://127.0.0.1:$port/health"
    # Warm up with the same mix, so that the first sample is the steady state's start.
    load "$port" libre 64 "$source_file" "$work/expected.beam1.fr" --seconds 30 --bad-every 10 > /dev/null
    load "$port" libre 64 "$source_file" "$work/expected.beam1.fr" --seconds "$soak" --bad-every 10 \
        --server-pid "$server" --rss-every 10 > "$work/soak.json"
    alive=yes; kill -0 "$server" 2>/dev/null || alive=no
    kill -TERM "$server"; status=0; wait "$server" || status=$?
    "$python" - "$work/soak.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
samples = r["rss_samples_mb"]
base, top = samples[0], max(samples)
print(f"good requests: {r['good']} answered, {r['wrong']} differ from translate, errors {r['errors']}")
print(f"bad requests: {r['bad_sent']} sent, {r['bad_answered_right']} got their status, wrong: {r['bad_answered_wrong']}")
print(f"throughput {r['sentences_per_second']} sent/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms")
print(f"RSS at the start {base} MB (after a 30 s warm-up with the same mix), highest {top} MB ({100 * (top - base) / base:+.1f}%), last {samples[-1]} MB, peak {r['peak_rss_mb']} MB")
print(f"samples (MB, every 10 s): {samples}")
EOF
    echo "server alive at the end: $alive; exit status after SIGTERM: $status"
fi
