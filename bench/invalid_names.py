"""Why sampled names fail: the invalid names of each model grouped by what OPSIN or RDKit said.

Validity is judged as ``chemgen evaluate`` judges it (OPSIN, then RDKit). Each
column is one model (and grammar setting) sampled with the same seed; each row
a kind of failure, as a share of all samples. A kind a left-to-right mask
could prevent (brackets, locant and multiplier counts) is worth a sampler rule
only when its row is large; the rest need a better model.

    python bench/invalid_names.py --models druglike,druglike-256.npz --samples 2000 [--both]

compares the shipped model with the GRU 256 shipped before it
(``git show 7916015:chemgen/model/shipped/druglike.npz > druglike-256.npz``).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import print_table  # noqa: E402
from chemgen.evaluation.evaluate import VALIDITY_FILTERS, check_in_chunks  # noqa: E402
from chemgen.filters.contract import Candidate  # noqa: E402
from chemgen.filters.stage import FilterStage  # noqa: E402
from chemgen.model.estimator import load  # noqa: E402

# (kind, pattern on the first failed verdict's reason); the first match wins, so the
# multiplier mismatch (whose message names its locants) comes before the missing locant
KINDS = [
    ("locant and multiplier counts", r"multiplier"),
    ("locant beyond its parent", r"locant"),
    ("valency: C", r"valency state! Element: C\b"),
    ("valency: N", r"valency state! Element: N\b"),
    ("valency: other", r"valency state"),
    ("double bonds or radicals", r"double bonds|radicals"),
    ("brackets", r"[Bb]racket"),
    ("unreadable spelling", r"uninterpretable"),
    ("other OPSIN", r"^opsin:"),
    ("RDKit", r"^rdkit:"),
]


def kind_of(candidate: Candidate) -> str:
    """The failure kind of an invalid candidate."""
    reason = candidate.reasons[0]
    return next((kind for kind, pattern in KINDS if re.search(pattern, reason)), "other")


def failures(model_path: str, samples: int, temperature: float, seed: int, grammar: bool,
             stage: FilterStage) -> tuple[Counter, list[Candidate]]:
    """Failure kinds (with "valid" counted too) and the invalid candidates, for one model."""
    model = load(model_path)
    names = [s.name for s in model.sample(samples, temperature=temperature, random_state=seed, grammar=grammar)]
    checked = check_in_chunks(stage, names, f"checking {model_path}")
    invalid = [c for c in checked if not c.passed]
    counts = Counter(kind_of(c) for c in invalid)
    counts["valid"] = len(checked) - len(invalid)
    return counts, invalid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="druglike", help="comma-separated model files or shipped names")
    parser.add_argument("--samples", type=int, default=2000, help="names sampled per column (default 2000)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--both", action="store_true", help="also every model with --no-grammar")
    parser.add_argument("--examples", type=int, default=0, help="print this many invalid names of each kind")
    args = parser.parse_args()
    columns: list[tuple[str, Counter]] = []
    with FilterStage(VALIDITY_FILTERS) as stage:
        for grammar in (True, False) if args.both else (True,):
            for path in args.models.split(","):
                counts, invalid = failures(path, args.samples, args.temperature, args.seed, grammar, stage)
                columns.append((path + ("" if grammar else " no-grammar"), counts))
                for kind in dict.fromkeys(kind_of(c) for c in invalid) if args.examples else ():
                    print(f"{path} · {kind}:", *[c.name for c in invalid if kind_of(c) == kind][:args.examples],
                          sep="\n    ")
    kinds = ["valid"] + [kind for kind, _ in KINDS] + ["other"]
    rows = [(kind, *[f"{100 * counts[kind] / args.samples:.1f}%" for _, counts in columns])
            for kind in kinds if any(counts[kind] for _, counts in columns)]
    print_table(["share of samples"] + [label for label, _ in columns], rows)
    print(f"({args.samples} samples per column at T = {args.temperature:g}, seed {args.seed})")


if __name__ == "__main__":
    main()
