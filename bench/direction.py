"""The direction experiment (left to right against right to left), and the one step its right-to-left run needed.

The right-to-left model of the experiment was trained, before ``--direction`` existed, as a
left-to-right model of the reversed names (the same ``chemgen train`` command on files whose
every line is reversed); tests/model/test_direction.py shows that this gives exactly the
weights of ``--direction reverse`` on the names themselves. ``convert`` turns such a file
into the reverse model it is: the direction set, and the training fingerprint made again
from the names as written, so the in-training flag and name novelty read names the right
way round.

    python bench/direction.py convert rtl.npz --names datasets/druglike/train.txt.gz --out rtl-reverse.npz

The comparison itself is two existing commands, run on both models:

    python bench/evaluate_grid.py --model ltr.npz --reference datasets/druglike/test.txt.gz \\
        --train datasets/druglike/train.smi.gz --samples 10000 --temperatures 0.7,0.85,1.0
    python bench/invalid_names.py --models ltr.npz,rtl-reverse.npz --samples 2000
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from chemgen.io.names import read_training_names  # noqa: E402
from chemgen.model import modelfile  # noqa: E402
from chemgen.model.estimator import CharRNN  # noqa: E402
from chemgen.model.vocab import Vocab  # noqa: E402


def convert(path: str, names_file: str, out: str) -> CharRNN:
    """A model trained on reversed names, as the reverse model it is (direction, fingerprint)."""
    model = CharRNN.load(path)
    learned = model.learned_
    if learned.vocab.reverse:
        raise SystemExit(f"{path} is already a reverse model")
    learned.vocab = Vocab(learned.vocab.chars, "reverse")
    learned.fingerprint = modelfile.name_hashes(read_training_names(names_file))
    model.set_params(direction="reverse")
    model.save(out)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("convert", help="a model trained on reversed names -> its reverse model")
    p.add_argument("model")
    p.add_argument("--names", required=True, help="the training names as written (for the fingerprint)")
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    convert(args.model, args.names, args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
