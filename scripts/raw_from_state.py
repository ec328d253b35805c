#!/usr/bin/env python3
"""Write the raw parameters of a run trained with --exponential-smoothing as a model file.

With smoothing, model.s2s holds the parameters' moving average and model.s2s.state holds the
parameters training continues from (`raw.<name>`, docs/checkpoint-format.md). This writes a
model with the same metadata and those raw parameters, so the average and the parameters of one
and the same run can be scored against each other: the cleanest test of what smoothing buys,
since both come from the same trajectory (BENCHMARKS.md, "Quality per minute … (session 12)").

Needs: Python 3.8+ and numpy. Checksums of the large inputs are not verified here (s2s verifies
the output when it loads it); CRC-32C in numpy runs at 1–3 MB/s, so writing takes a while.
Usage: scripts/raw_from_state.py model.s2s out.s2s
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_s2s_model import read_container  # noqa: E402
from write_s2s_model import container, write_atomically  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    model_path, out_path = argv
    magic, _, metadata, tensors = read_container(model_path, verify=False)
    if magic != "S2SMODEL":
        print(f"raw_from_state: error: {model_path}: not a model file ({magic})", file=sys.stderr)
        return 1
    _, _, state_meta, state_tensors = read_container(model_path + ".state", verify=False)
    if state_meta.get("modelCheckpointID") != metadata.get("checkpointID"):
        print(f"raw_from_state: error: {model_path}.state does not belong to {model_path}", file=sys.stderr)
        return 1
    raw = {entry["name"][len("raw."):]: array for entry, array in state_tensors if entry["name"].startswith("raw.")}
    if not raw:
        print(f"raw_from_state: error: {model_path}.state has no raw parameters (trained without smoothing)",
              file=sys.stderr)
        return 1
    arrays = [(entry["name"], raw[entry["name"]]) for entry, _ in tensors]
    metadata = dict(metadata, checkpointID="0" * 32)
    write_atomically(out_path, container("S2SMODEL", metadata, arrays))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
