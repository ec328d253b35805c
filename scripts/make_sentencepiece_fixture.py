#!/usr/bin/env python3
"""Reference compression figures from SentencePiece BPE, for Tests/S2SSubwordTests.

Trains SentencePiece (model_type=bpe, character_coverage=0.9995, byte_fallback=true) on
Multi30k en+fr train text, encodes val en and fr, and writes the mean pieces per sentence to
Tests/S2SSubwordTests/Fixtures/sentencepiece_val.json. Two configurations:
  "full":  all train lines, vocab_size 8000 (the issue's setting; the bench uses it too)
  "small": the first 10000 lines of train.en and train.fr, vocab_size 4000 (fast enough for
           the debug-build parity test)

Install: pip install sentencepiece     Run: python3 scripts/make_sentencepiece_fixture.py [CORPUS_DIR]
"""
import json
import os
import sys
import tempfile

import sentencepiece as spm

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "corpora", "multi30k-en-fr")


def read(name, limit=None):
    with open(os.path.join(corpus, name), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[:limit] if limit else lines


def train_and_measure(train_lines, vocab_size, work):
    text_path = os.path.join(work, "train.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write("\n".join(train_lines) + "\n")
    prefix = os.path.join(work, "spm")
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=prefix, model_type="bpe", vocab_size=vocab_size,
        character_coverage=0.9995, byte_fallback=True, num_threads=1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    result = {"vocab_size": vocab_size, "train_lines": len(train_lines)}
    for lang in ("en", "fr"):
        val = read("val." + lang)
        pieces = sum(len(p) for p in sp.encode(val, out_type=str))
        result["val_" + lang] = {"sentences": len(val), "pieces": pieces,
                                 "pieces_per_sentence": pieces / len(val)}
    return result


with tempfile.TemporaryDirectory() as work:
    fixture = {
        "generator": "scripts/make_sentencepiece_fixture.py",
        "sentencepiece_version": spm.__version__,
        "settings": "model_type=bpe character_coverage=0.9995 byte_fallback=true, trained on train.en+train.fr",
        "full": train_and_measure(read("train.en") + read("train.fr"), 8000, work),
        "small": train_and_measure(read("train.en", 10000) + read("train.fr", 10000), 4000, work),
    }
out = os.path.join(root, "Tests", "S2SSubwordTests", "Fixtures", "sentencepiece_val.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(fixture, f, indent=2, sort_keys=True)
    f.write("\n")
print(json.dumps(fixture, indent=2, sort_keys=True))
