"""Where ``chemgen generate -n 1000`` spends its time: start-up, model, sampling, OPSIN, RDKit, writing.

Each part is timed on its own, on the same work the end-to-end command does (the
names the command samples, the structures OPSIN finds for them), median of
``--rounds``; then the command itself is timed in every format. In the command
the parts overlap (names go to OPSIN and RDKit as they end, OPSIN runs in its
own process), so the parts add up to more than the whole: the table says how
much the overlap saves. BLAS is pinned to one thread on every part.

    python bench/profile_generate.py [--n 1000] [--model druglike] [--seed 0] [--rounds 3]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

FILTERS = "suffix,opsin,rdkit"
FORMATS = ("csv", "table", "names", "jsonl")


def median_time(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command_time(args: list[str], rounds: int) -> float:
    env = dict(os.environ, CHEMGEN_NO_PROGRESS="1")
    code = "import sys, chemgen.cli; sys.exit(chemgen.cli.main())"
    return median_time(lambda: subprocess.run([sys.executable, "-c", code, *args], env=env, check=True,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), rounds)


def first_answer() -> None:
    from chemgen.chem.opsin import OpsinProcess

    with OpsinProcess() as opsin:
        opsin.parse(["ethanol"])


def parts(args) -> list[tuple[str, float]]:
    """Each stage of the command, alone, on the command's own work."""
    import numpy as np

    import chemgen
    from chemgen.filters import Candidate, FilterStage
    from chemgen.generation.core import default_max_tries
    from chemgen.model.sample import draw_names
    from chemgen.output import writers

    empty = ["generate", "-n", "0", "--filters", "none", "--model", args.model]
    rows = [("start-up: chemgen generate -n 0 --filters none (imports, the model)", command_time(empty, args.rounds))]
    rows.append(("load the model", median_time(lambda: chemgen.load(args.model), args.rounds)))
    model = chemgen.load(args.model)
    results = chemgen.generate(args.n, model, FILTERS, seed=args.seed)
    batch = min(results.tried, default_max_tries(args.n))
    seed = int(np.random.default_rng(args.seed).integers(2**63))  # the command's first batch
    sample = lambda: draw_names(model.learned_, batch, 1.0, None, "", 200, np.random.default_rng(seed))[0]  # noqa: E731
    rows.append((f"sample {batch} names", median_time(sample, args.rounds)))
    names = [s.name for s in sample()]
    rows.append(("start OPSIN: a JVM to its first answer", median_time(lambda: first_answer(), args.rounds)))
    with FilterStage("opsin") as stage:
        rows.append((f"OPSIN on {len(names)} names",
                     median_time(lambda: stage.run([Candidate(n) for n in names]), args.rounds)))
        parsed = [c for c in stage.run([Candidate(n) for n in names]) if c.smiles]
    for properties in ("none", "all"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no opsin before rdkit: the structures are given here
            stage = FilterStage(f"rdkit(properties={properties})").__enter__()
        rows.append((f"RDKit on {len(parsed)} structures, properties {properties}",
                     median_time(lambda: stage.run([Candidate(c.name, smiles=c.smiles) for c in parsed]), args.rounds)))
        stage.close()
    for fmt in FORMATS:
        rows.append((f"write {len(results)} rows as {fmt}",
                     median_time(lambda: writers.write(results, io.StringIO(), fmt), args.rounds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--model", default="druglike")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = parts(args)
    command = ["generate", "-n", str(args.n), "--filters", FILTERS, "--seed", str(args.seed), "--model", args.model]
    whole = [(f"chemgen generate ... --format {fmt}", command_time(command + ["--format", fmt], args.rounds))
             for fmt in FORMATS]
    width = max(len(label) for label, _ in rows + whole)
    print(f"{'part (alone, median of %d)' % args.rounds:<{width}}  seconds")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:7.2f}")
    csv_parts = [s for label, s in rows if label != "load the model" and "properties none" not in label
                 and ("write" not in label or label.endswith("csv"))]
    print(f"{'sum of the parts (CSV: start-up, sampling, OPSIN, RDKit, writing)':<{width}}  {sum(csv_parts):7.2f}")
    for label, seconds in whole:
        print(f"{label:<{width}}  {seconds:7.2f}")


if __name__ == "__main__":
    main()
