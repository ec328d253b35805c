#!/usr/bin/env python3
"""Write a synthetic s2s model file with numpy alone: random parameters with the real model's
tensor names, for benchmarks (load time of a ~50 MB model) and as fuzzing seeds.

A second, independent implementation of docs/checkpoint-format.md (the Swift writer is the
first): `s2s info` reading this file is a cross-check of the format description.

Needs: Python 3.8+ and numpy (`pip install numpy`); imports crc32c from read_s2s_model.py.
Usage: scripts/write_s2s_model.py OUT.s2s [--vocab 8000] [--embedding 256] [--hidden 512]
       [--attention 512] [--seed 1] [--state]   (--state also writes OUT.s2s.state)
"""
import argparse
import json
import os
import struct
import sys
import uuid

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_s2s_model import PREFIX, aligned, crc32c  # noqa: E402


def layout(V_src, V_tgt, E, H, A):
    """(name, shape) of every parameter of the GRU encoder-decoder, as the model names them."""
    out = [("source.embedding", [V_src, E]), ("target.embedding", [V_tgt, E])]
    for d in ("forward", "backward"):
        out += [(f"encoder.{d}.W", [3 * H, E]), (f"encoder.{d}.U", [3 * H, H]), (f"encoder.{d}.b", [3 * H])]
    out += [("decoder.init.W", [H, 2 * H]), ("decoder.init.b", [H]),
            ("decoder.gru1.W", [3 * H, E]), ("decoder.gru1.U", [3 * H, H]), ("decoder.gru1.b", [3 * H]),
            ("decoder.gru2.W", [3 * H, 2 * H]), ("decoder.gru2.U", [3 * H, H]), ("decoder.gru2.b", [3 * H]),
            ("attention.Wc", [A, 2 * H]), ("attention.Ws", [A, H]), ("attention.v", [A]),
            ("output.W", [V_tgt, E]), ("output.b", [V_tgt])]
    return out


def container(magic, metadata, arrays):
    """The bytes of a container holding `metadata` (JSON-able) and [(name, float32 array)]."""
    entries = [{"name": n, "dtype": "f32", "shape": list(a.shape), "offset": 0, "bytes": a.nbytes,
                "crc32c": crc32c(a.tobytes())} for n, a in arrays]
    meta = json.dumps(metadata, sort_keys=True, separators=(",", ":"))
    for _ in range(8):  # offsets change the header length, which changes the offsets
        header = ('{"arrays":' + json.dumps(entries, sort_keys=True, separators=(",", ":"))
                  + ',"metadata":' + meta + "}").encode("utf-8")
        offset, changed = aligned(PREFIX + len(header)), False
        for e in entries:
            changed |= e["offset"] != offset
            e["offset"] = offset
            offset = aligned(offset + e["bytes"])
        if not changed:
            break
    total = offset if entries else aligned(PREFIX + len(header))
    first = magic.encode("ascii") + struct.pack("<IIQ", 1, len(header), total)
    out = bytearray(total)
    out[0:24] = first
    out[24:28] = struct.pack("<I", crc32c(header, crc32c(first)))
    out[PREFIX:PREFIX + len(header)] = header
    for e, (_, a) in zip(entries, arrays):
        out[e["offset"]:e["offset"] + e["bytes"]] = a.astype("<f4").tobytes()
    return bytes(out)


def write_atomically(path, data):
    tmp = path + ".tmp.py" + uuid.uuid4().hex[:4]
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--vocab", type=int, default=8000)
    p.add_argument("--embedding", type=int, default=256)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--attention", type=int, default=512)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--state", action="store_true")
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    tensors = [(n, (rng.standard_normal(s) * 0.1).astype(np.float32))
               for n, s in layout(args.vocab, args.vocab, args.embedding, args.hidden, args.attention)]
    vocab_text = "#synthetic vocabulary\n"
    fnv = 0xCBF29CE484222325
    for b in vocab_text.encode():
        fnv = ((fnv ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    fingerprint = f"{fnv:016x}-{crc32c(vocab_text.encode()):08x}-{len(vocab_text.encode())}"
    checkpoint_id = uuid.uuid4().hex
    metadata = {
        "config": {"sourceVocabularySize": args.vocab, "targetVocabularySize": args.vocab,
                   "embeddingSize": args.embedding, "hiddenSize": args.hidden, "attentionSize": args.attention,
                   "embeddingDropout": 0.1, "stateDropout": 0.1, "outputDropout": 0.2, "labelSmoothing": 0.1,
                   "tiedEmbeddings": False, "layerNormalization": False},
        "vocabulary": {"text": vocab_text, "fingerprint": fingerprint},
        "progress": {"epoch": 1, "updates": 100, "targetTokensSeen": 12345, "elapsedSeconds": 60.5,
                     "validations": [{"updates": 100, "epoch": 1, "crossEntropy": 5.5, "perplexity": 244.69,
                                      "bleu": 1.5, "time": 60.5}]},
        "trainingOptions": {"writer": "scripts/write_s2s_model.py"},
        "createdAt": "2026-01-01T00:00:00Z", "s2sVersion": "synthetic", "checkpointID": checkpoint_id,
    }
    if args.state:
        state_meta = {"modelCheckpointID": checkpoint_id, "optimizerStep": 100, "scheduler": None,
                      "rngStates": {"shuffle": {"state": [1, 2, 3, 2**64 - 1]}}, "corpusPosition": {"batch": 7},
                      "extra": None, "createdAt": "2026-01-01T00:00:00Z"}
        moments = [(f"adam.{k}.{n}", np.abs(a) if k == "v" else a) for k in ("m", "v") for n, a in tensors]
        write_atomically(args.out + ".state", container("S2SSTATE", state_meta, moments))
    write_atomically(args.out, container("S2SMODEL", metadata, tensors))


if __name__ == "__main__":
    main()
