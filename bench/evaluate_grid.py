"""A model's figures over a grid of temperatures, with and without grammar-aware sampling.

Each column is what ``chemgen evaluate --model M --samples N --temperature T --seed S
--reference R --train TRAIN [--no-grammar]`` prints for the model; one process runs the
whole grid so the training structures are read once. The reference's own figures
(the ceiling) are the last column.

    python bench/evaluate_grid.py --model druglike --reference datasets/druglike/test.txt.gz \\
        --train datasets/druglike/train.smi.gz --samples 10000 --temperatures 0.7,0.85,1.0
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from chemgen.evaluation.evaluate import FIGURES, evaluate_checked, figure_text  # noqa: E402
from chemgen.io.names import read_training_names  # noqa: E402
from chemgen.model.estimator import load  # noqa: E402


def grid(model, reference, args) -> list[tuple[str, dict]]:
    """(column label, evaluate's result) for every temperature, grammar on and off."""
    columns = []
    for grammar in (True, False) if args.both else (True,):
        for temperature in (float(t) for t in args.temperatures.split(",")):
            start = time.perf_counter()
            result = evaluate_checked(model, args.samples, reference, temperature, args.seed, args.train, grammar)[0]
            label = f"T={temperature:g}" + ("" if grammar else " no-grammar")
            print(f"{label}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
            columns.append((label, result))
    return columns


def table(columns: list[tuple[str, dict]]) -> str:
    """Markdown table: one row per figure, one column per grid point, then the reference."""
    heads = [label for label, _ in columns] + ["reference"]
    rows = ["| figure | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for key, text in FIGURES:
        cells = [figure_text(key, result["model"].get(key)) for _, result in columns]
        cells.append(figure_text(key, columns[0][1].get("reference", {}).get(key)))
        if any(cells):
            rows.append(f"| {text} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="druglike", help="model file or shipped name (default druglike)")
    parser.add_argument("--reference", required=True, help="held-out names file")
    parser.add_argument("--train", help="training names or molecules file, for structural novelty")
    parser.add_argument("--samples", type=int, default=10000, help="names sampled per grid point (default 10000)")
    parser.add_argument("--temperatures", default="0.7,0.85,1.0", help="comma-separated (default 0.7,0.85,1.0)")
    parser.add_argument("--both", action="store_true", help="also every temperature with --no-grammar")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write every result as JSON to this file")
    args = parser.parse_args()
    columns = grid(load(args.model), read_training_names(args.reference), args)
    print(table(columns))
    print(f"({args.samples} samples per column, seed {args.seed}; structural novelty against "
          f"{columns[0][1]['structures_novel_against']})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(dict(columns), handle, indent=2)


if __name__ == "__main__":
    main()
