#!/usr/bin/env python3
"""Read an s2s model file (model.s2s) with numpy alone, verifying every checksum.

An independent reader of the container format in docs/checkpoint-format.md: prints the
header fields and, for each tensor, its name, shape and sum (float64). Also reads training
state files (magic S2SSTATE) and prepared corpora (any S2S* magic).

Needs: Python 3.8+ and numpy (`pip install numpy`).
Usage: scripts/read_s2s_model.py model.s2s [--no-verify] [--json]
Exit status 0 if the file is intact, 1 (with a one-line message on stderr) if not.
"""
import json
import struct
import sys

import numpy as np

ALIGNMENT = 64
PREFIX = 64
MAX_HEADER = 64 << 20
DTYPES = {"f32": "<f4", "i32": "<i4", "i64": "<i8", "u8": "u1"}


def _crc32c_tables():
    """Eight 256-entry tables for slicing-by-8 CRC-32C (Castagnoli, reflected 0x82F63B78)."""
    table = np.zeros((8, 256), dtype=np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[0, n] = c
    for k in range(1, 8):
        prev = table[k - 1]
        table[k] = (prev >> 8) ^ table[0][prev & 0xFF]
    return table


_TABLES = _crc32c_tables()


def crc32c(data, crc=0):
    """CRC-32C of bytes-like `data`, continuing from `crc`.

    Whole-array numpy: the file's bytes are processed 8 at a time by slicing-by-8, which is a
    sequential recurrence, so it runs in a Python loop over 8-byte words; fine for checking a
    file once (about 1–3 MB/s) — use --no-verify for large files when speed matters.
    """
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    crc = (~crc) & 0xFFFFFFFF
    t = [row.tolist() for row in _TABLES]
    n8 = len(buf) // 8
    if n8:
        words = buf[: n8 * 8].reshape(n8, 8).tolist()
        t0, t1, t2, t3, t4, t5, t6, t7 = t
        for b in words:
            low = (b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24) ^ crc
            crc = (t7[low & 0xFF] ^ t6[(low >> 8) & 0xFF] ^ t5[(low >> 16) & 0xFF] ^ t4[low >> 24]
                   ^ t3[b[4]] ^ t2[b[5]] ^ t1[b[6]] ^ t0[b[7]])
    for byte in buf[n8 * 8:].tolist():
        crc = t[0][(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (~crc) & 0xFFFFFFFF


class FormatError(Exception):
    pass


def aligned(n):
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def read_container(path, verify=True):
    """Returns (magic, version, metadata dict, [(entry, numpy array)]) or raises FormatError."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < PREFIX or not data[:3] == b"S2S":
        raise FormatError(f"{path}: not an s2s file (bad magic bytes)")
    magic = data[:8].decode("ascii", "replace")
    version, header_len, total = struct.unpack_from("<IIQ", data, 8)
    (stored_crc,) = struct.unpack_from("<I", data, 24)
    if version > 2:
        raise FormatError(f"{path}: format version {version} is newer than this reader supports (2)")
    if total != len(data):
        raise FormatError(f"{path}: truncated or extended: header says {total} bytes, file has {len(data)}")
    if header_len > MAX_HEADER or PREFIX + header_len > len(data):
        raise FormatError(f"{path}: malformed header: header length {header_len} out of range")
    header = data[PREFIX:PREFIX + header_len]
    if verify and crc32c(header, crc32c(data[:24])) != stored_crc:
        raise FormatError(f"{path}: header checksum mismatch (file is corrupt)")
    if any(data[28:PREFIX]):
        raise FormatError(f"{path}: malformed header: reserved bytes 28..<64 are not zero")
    doc = json.loads(header.decode("utf-8"), parse_constant=float)
    expected = aligned(PREFIX + header_len)
    if any(data[PREFIX + header_len:expected]):
        raise FormatError(f"{path}: malformed header: header padding is not zero")
    tensors = []
    for entry in doc["arrays"]:
        name, dtype, shape = entry["name"], entry["dtype"], entry["shape"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if dtype not in DTYPES or count * np.dtype(DTYPES[dtype]).itemsize != entry["bytes"]:
            raise FormatError(f"{path}: tensor '{name}': shape {shape} does not match {entry['bytes']} bytes")
        if entry["offset"] != expected or entry["offset"] + entry["bytes"] > len(data):
            raise FormatError(f"{path}: tensor '{name}': offset {entry['offset']} out of range (expected {expected})")
        raw = data[entry["offset"]:entry["offset"] + entry["bytes"]]
        if verify and crc32c(raw) != entry["crc32c"]:
            raise FormatError(f"{path}: checksum mismatch in tensor '{name}' (file is corrupt)")
        end = entry["offset"] + entry["bytes"]
        expected = aligned(end)
        if any(data[end:expected]):
            raise FormatError(f"{path}: tensor '{name}': padding after it is not zero")
        tensors.append((entry, np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape)))
    if expected != len(data):
        raise FormatError(f"{path}: malformed header: {len(data) - expected} unexpected bytes after the last tensor")
    return magic, version, doc["metadata"], tensors


def main(argv):
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    verify = "--no-verify" not in argv
    try:
        magic, version, meta, tensors = read_container(paths[0], verify=verify)
    except (FormatError, OSError, ValueError, KeyError, TypeError) as error:
        message = str(error) if isinstance(error, FormatError) else f"{paths[0]}: {type(error).__name__}: {error}"
        print(f"read_s2s_model: error: {message}", file=sys.stderr)
        return 1
    if "--json" in argv:
        out = {"magic": magic, "version": version, "checksums": "verified" if verify else "skipped",
               "tensors": [{"name": e["name"], "shape": e["shape"], "sum": float(a.astype(np.float64).sum())}
                           for e, a in tensors]}
        print(json.dumps(out, indent=1))
        return 0
    print(f"{paths[0]}: {magic} version {version}, {len(tensors)} tensors, checksums "
          + ("verified (CRC-32C)" if verify else "NOT verified (--no-verify)"))
    if magic == "S2SMODEL":
        config, progress = meta["config"], meta["progress"]
        print(f"config: {json.dumps(config, sort_keys=True)}")
        print(f"vocabulary: {len(meta['vocabulary']['text'])} characters, fingerprint {meta['vocabulary']['fingerprint']}")
        print(f"progress: epoch {progress['epoch']}, {progress['updates']} updates, "
              f"{len(progress['validations'])} validations; written {meta['createdAt']} by s2s {meta['s2sVersion']}")
    total = 0
    for entry, array in tensors:
        total += array.size
        print(f"{entry['name']:40s} {str(list(array.shape)):16s} {entry['dtype']} sum={array.astype(np.float64).sum():.9g}")
    print(f"total elements: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
