#!/usr/bin/env bash
# Installs OpenNMT-py into PYTHON's environment (once), encodes Multi30k with the s2s vocabulary
# into ONMT_DIR and writes the OpenNMT-py configuration that the benchmarks compare s2s with
# (bench-quality.sh: BLEU per minute; bench-parallel.sh: training tokens/s). Prints the folder
# of the onmt_* commands.
# usage: scripts/opennmt-setup.sh S2S_BIN PYTHON CORPUS VOCAB ONMT_DIR SCHEDULE TRAIN_STEPS [REPORT_EVERY]
set -euo pipefail
s2s="$1"; python="$2"; corpus="$3"; vocab="$4"; onmt="$5"; onmt_schedule="$6"; steps="$7"; report="${8:-50}"
# OpenNMT-py 3.5.1 pins torch < 2.3 but runs on newer CPU torch; install it without its pins,
# with the modules it imports at start-up.
if ! "$python" -c "import onmt.bin.train" 2>/dev/null; then
  "$python" -m pip install -q --no-deps OpenNMT-py==3.5.1 >&2
  "$python" -m pip install -q configargparse pyyaml six pyonmttok spacy pyahocorasick rapidfuzz fasttext >&2
fi
rm -rf "$onmt"; mkdir -p "$onmt"
for split in train val test_2016_flickr; do
  for lang in en fr; do
    "$s2s" encode -v "$vocab" "$corpus/$split.$lang" > "$onmt/$split.$lang.sp"
  done
done
# Same family and size as s2s's defaults: bidirectional GRU encoder (OpenNMT-py splits
# hidden_size over the two directions, 2 × 256; s2s has 2 × 512, as Nematus), GRU decoder 512
# wide with additive ("mlp") attention, E 256, 1 layer each, Adam with SCHEDULE (constant or
# noam), clipping 1, label smoothing 0.1, dropout 0.1, 2000-token batches, validation every
# 500 updates, 2 threads (torch's default). OpenNMT-py's decoder feeds attention back as
# input (Luong-style) where s2s's is a conditional GRU, and its GRUs have no layer
# normalization (s2s's default; `--no-layer-normalization` gives the plain cells).
cat > "$onmt/config.yaml" <<EOF
save_data: $onmt/run
src_vocab: $onmt/vocab.src
tgt_vocab: $onmt/vocab.tgt
overwrite: true
data:
  corpus_1:
    path_src: $onmt/train.en.sp
    path_tgt: $onmt/train.fr.sp
  valid:
    path_src: $onmt/val.en.sp
    path_tgt: $onmt/val.fr.sp
src_vocab_size: 10000
tgt_vocab_size: 10000
src_seq_length: 100
tgt_seq_length: 100
encoder_type: brnn
decoder_type: rnn
rnn_type: GRU
enc_layers: 1
dec_layers: 1
word_vec_size: 256
hidden_size: 512
global_attention: mlp
input_feed: 1
optim: adam
$(if [ "$onmt_schedule" = noam ]; then
echo "learning_rate: $(awk 'BEGIN { printf "%.6f", 1e-3 * sqrt(512 * 200) }')"
echo "decay_method: noam"
echo "warmup_steps: 200"
else
echo "learning_rate: 0.001"
echo "decay_method: none"
echo "start_decay_steps: 1000000"
fi)
max_grad_norm: 1.0
label_smoothing: 0.1
dropout: [0.1]
batch_type: tokens
batch_size: 2000
valid_steps: 500
save_model: $onmt/model
save_checkpoint_steps: ${SAVE_EVERY:-250}
keep_checkpoint: 1000
train_steps: $steps
report_every: $report
seed: 1
world_size: 1
num_workers: 0
EOF
"$(dirname "$python")/onmt_build_vocab" -config "$onmt/config.yaml" -n_sample -1 > "$onmt/build_vocab.log" 2>&1
dirname "$python"
