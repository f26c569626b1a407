"""Build the ``druglike`` corpus: MOSES molecules named by openclatura, each name checked by OPSIN.

Source: the MOSES benchmark data (ZINC Clean Leads) inside the ``molsets`` 0.3.1 wheel
(``moses/dataset/data/{train,test,test_scaffolds}.csv.gz``), read straight from the wheel.

    pip download --no-deps --dest datasets/downloads molsets==0.3.1   # the wheel, without its dependencies
    pip install -e ".[datasets]"                                       # openclatura, chemicals
    python datasets/build.py druglike [--moses-wheel PATH] [--workers 2]

Rules (the same wheel, namer and OPSIN give the same bytes):
- each MOSES file is put in a fixed pseudo-random order: by the BLAKE2b hash of ``"<file>:<SMILES>"``;
- the molecules are taken in that order, a chunk at a time, named by ``openclatura.name_smiles``
  in a pool of worker processes (results in input order), and each name is read back by OPSIN;
  a name is kept when OPSIN's structure has the source SMILES's InChIKey (both computed by RDKit);
- a molecule is dropped, and counted under the first reason that applies, when RDKit cannot read
  its SMILES, the namer fails, the name has a character outside ``ALPHABET``, OPSIN cannot parse
  the name, OPSIN's structure has another InChIKey, or the name is already in the corpus;
- the first TARGETS[...] kept names make each split: ``train`` from MOSES train; ``test`` and
  then ``valid`` from one walk through MOSES test; ``scaffold_test`` from MOSES test_scaffolds;
- per split: ``<split>.txt.gz`` one name per line and ``<split>.smi.gz`` the source SMILES of the
  same line, both gzip with no file name and modification time 0; ``stats.json`` the figures.

Chunks that are done are kept under ``build/druglike-chunks/`` (with the settings they were made
with), so a build that is stopped resumes where it was; ``--fresh`` starts over.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chemgen.chem.corpus import CHUNK, ChunkStore, Namers, init_worker, walk  # noqa: E402 (the one naming path)

OUT = ROOT / "datasets" / "druglike"
CHUNKS = ROOT / "build" / "druglike-chunks"
DEFAULT_WHEEL = ROOT / "datasets" / "downloads" / "molsets-0.3.1-py3-none-any.whl"
MOSES_FILES = {"train": "moses/dataset/data/train.csv.gz", "test": "moses/dataset/data/test.csv.gz",
               "test_scaffolds": "moses/dataset/data/test_scaffolds.csv.gz"}
# split -> (MOSES file, names wanted); splits sharing a file are filled in this order from one walk.
TARGETS = {"train": ("train", 350_000), "test": ("test", 10_000), "valid": ("test", 10_000),
           "scaffold_test": ("test_scaffolds", 10_000)}
NAMER = "openclatura"
NAMER_VERSION = "0.4.3"
# the systematic corpus's alphabet plus "^" (superscripts: "1lambda^6-", "tricyclo[4.2.1.0^{2,4}]"), which OPSIN reads
ALPHABET = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-,()[]{}' ;+.:^")

R_DUPLICATE = "name already in the corpus"


class BuildError(Exception):
    """A problem the build reports in one line."""


# ---------------------------------------------------------------- source


def find_wheel(path: Optional[str]) -> Path:
    wheel = Path(path) if path else Path(os.environ.get("CHEMGEN_MOSES_WHEEL", DEFAULT_WHEEL))
    if not wheel.is_file():
        raise BuildError(f"the molsets 0.3.1 wheel is not at {wheel}: run `pip download --no-deps --dest "
                         f"datasets/downloads molsets==0.3.1` or pass --moses-wheel PATH")
    return wheel


def read_moses(wheel: Path, kind: str) -> list[str]:
    """The SMILES column of one MOSES file in the wheel, in file order."""
    try:
        with zipfile.ZipFile(wheel) as z:
            lines = gzip.decompress(z.read(MOSES_FILES[kind])).decode("ascii").splitlines()
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise BuildError(f"{wheel}: cannot read {MOSES_FILES[kind]} ({exc})") from None
    if not lines or lines[0].split(",")[0] != "SMILES":
        raise BuildError(f"{wheel}: {MOSES_FILES[kind]} does not start with a SMILES header")
    return [line.split(",")[0] for line in lines[1:] if line]


def file_sha256(wheel: Path, kind: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        return hashlib.sha256(z.read(MOSES_FILES[kind])).hexdigest()


def walk_order(kind: str, smiles: list[str]) -> list[int]:
    """Indices of ``smiles`` in a fixed pseudo-random order, the same on every machine and NumPy."""
    key = [hashlib.blake2b(f"{kind}:{s}".encode(), digest_size=8).digest() for s in smiles]
    return sorted(range(len(smiles)), key=key.__getitem__)


# ---------------------------------------------------------------- chunks on disk


def settings(wheel: Path) -> dict:
    import openclatura

    from chemgen.chem.opsin import find_jar

    version = getattr(openclatura, "__version__", "")
    if version and version != NAMER_VERSION:
        raise BuildError(f"openclatura {version} is installed; the corpus is built with {NAMER_VERSION} "
                         f"(pip install openclatura=={NAMER_VERSION})")
    return {"namer": f"{NAMER} {NAMER_VERSION}", "opsin_jar": find_jar().name if find_jar() else "",
            "chunk": CHUNK, "alphabet": "".join(sorted(ALPHABET)),
            "moses_sha256": {k: file_sha256(wheel, k) for k in MOSES_FILES}}


# ---------------------------------------------------------------- output


def write_gzip_lines(path: Path, lines: list[str]) -> None:
    """One line each, ``\\n`` ends, gzip without a file name and with mtime 0; atomic."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as out:
        out.write("".join(line + "\n" for line in lines).encode("utf-8"))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def statistics(names: list[str]) -> dict:
    lengths = sorted(len(n) for n in names)
    chars = Counter(c for n in names for c in n)
    return {"names": len(names), "length_min": lengths[0], "length_median": lengths[len(lengths) // 2],
            "length_mean": round(sum(lengths) / len(lengths), 2), "length_max": lengths[-1],
            "alphabet": "".join(sorted(chars)), "alphabet_size": len(chars)}


def build(wheel: Path, out: Path, targets: dict, workers: int, chunks: Path, fresh: bool = False,
          log=print) -> dict:
    from multiprocessing import get_context

    from chemgen.chem.opsin import OpsinProcess

    init_worker()
    config = settings(wheel)
    store = ChunkStore(chunks, config, fresh)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict = {"source": f"MOSES (molsets 0.3.1 wheel): {', '.join(MOSES_FILES.values())}",
                   "namer": config["namer"], "opsin": config["opsin_jar"], "moses_sha256": config["moses_sha256"],
                   "order": "BLAKE2b-64 of '<file>:<SMILES>'", "splits": {}}
    seen: set[str] = set()
    started = time.monotonic()
    pool = get_context("fork").Pool(workers, initializer=init_worker) if workers > 1 else None
    namers = Namers.pool(pool, workers) if pool is not None else Namers.in_this_process()
    try:
        with OpsinProcess() as opsin:
            for kind in ("test", "test_scaffolds", "train"):  # the small splits first: written within minutes
                wanted = [(split, n) for split, (k, n) in targets.items() if k == kind and n > 0]
                if not wanted:
                    continue
                smiles = read_moses(wheel, kind)
                order = walk_order(kind, smiles)
                rows = walk(kind, smiles, order, store, namers, sum(n for _, n in wanted), opsin, ALPHABET,
                            chunk_logger(kind, log))
                for split, n in wanted:
                    kept: list[tuple[str, str]] = []
                    drops: Counter = Counter()
                    looked = 0
                    for smi, name, reason in rows:
                        looked += 1
                        if not reason and name in seen:
                            reason = R_DUPLICATE
                        if reason:
                            drops[reason] += 1
                            continue
                        seen.add(name)
                        kept.append((name, smi))
                        if len(kept) == n:
                            break
                    if len(kept) < n:
                        raise BuildError(f"{split}: only {len(kept)} of {n} names from MOSES {kind}")
                    names = [k[0] for k in kept]
                    write_gzip_lines(out / f"{split}.txt.gz", names)
                    write_gzip_lines(out / f"{split}.smi.gz", [k[1] for k in kept])
                    stats["splits"][split] = statistics(names) | {
                        "moses_file": kind, "molecules_looked_at": looked, "dropped": dict(sorted(drops.items()))}
                    log(f"{split}: {len(kept)} names from {looked} MOSES {kind} molecules; dropped {dict(drops)}")
                    write_stats(out, stats, targets)  # after every split: an unfinished build leaves true figures
                rows.close()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    log(f"done in {time.monotonic() - started:.0f} s")
    log("datasets/README.md figures:\n" + readme_figures(stats))
    return stats


def chunk_logger(kind: str, log):
    """A line per chunk named in this run, with the rate so far."""
    started, done = time.monotonic(), [0]

    def on_chunk(number: int, n_chunks: int, cached: bool) -> None:
        if not cached:
            done[0] += CHUNK
            rate = done[0] / max(time.monotonic() - started, 1e-9)
            log(f"{kind} chunk {number + 1}/{n_chunks}: {done[0]} molecules named in this run, {rate:.0f}/s")
    return on_chunk


def write_stats(out: Path, stats: dict, targets: dict) -> None:
    every = [n for split in targets if split in stats["splits"] for n in _names(out, split)]
    stats["all"] = statistics(every)
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8")


README_ORDER = ("train", "valid", "test", "scaffold_test")


def readme_figures(stats: dict) -> str:
    """The druglike tables of datasets/README.md (counts, drops, lengths, alphabet) from the build's figures."""
    splits = {s: stats["splits"][s] for s in README_ORDER if s in stats["splits"]}
    counts = [splits.get(s, {}).get("names", 0) for s in README_ORDER]
    lines = ["| corpus | train | valid | test | scaffold_test | total |", "|---|---|---|---|---|---|",
             "| druglike | " + " | ".join(f"{n:,}" for n in counts + [sum(counts)]) + " |", "",
             "| split | MOSES molecules looked at | kept | dropped | reasons |", "|---|---|---|---|---|"]
    for name, s in splits.items():
        reasons = "; ".join(f"{r}: {n:,}" for r, n in s["dropped"].items()) or "–"
        lines.append(f"| {name} | {s['molecules_looked_at']:,} | {s['names']:,} | "
                     f"{sum(s['dropped'].values()):,} | {reasons} |")
    lines += ["", "| split | min | median | mean | max |", "|---|---|---|---|---|"]
    for name, s in list(splits.items()) + [("all", stats["all"])]:
        lines.append(f"| {name} | {s['length_min']} | {s['length_median']} | {s['length_mean']:.2f} | {s['length_max']} |")
    lines += ["", f"Characters used (the space first), {stats['all']['alphabet_size']}: ``{stats['all']['alphabet']}``"]
    return "\n".join(lines)


def _names(out: Path, split: str) -> list[str]:
    return gzip.decompress((out / f"{split}.txt.gz").read_bytes()).decode("utf-8").split("\n")[:-1]


# ---------------------------------------------------------------- command line


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py druglike", description=__doc__.split("\n")[0])
    parser.add_argument("--moses-wheel", metavar="PATH",
                        help="the molsets 0.3.1 wheel (default: $CHEMGEN_MOSES_WHEEL, else "
                             f"{DEFAULT_WHEEL.relative_to(ROOT)})")
    parser.add_argument("--workers", type=int, default=2, help="naming processes (default 2)")
    for split, (_, n) in TARGETS.items():
        parser.add_argument(f"--{split.replace('_', '-')}", type=int, default=n, metavar="N",
                            help=f"names in {split} (default {n:,})")
    parser.add_argument("--out", default=str(OUT), help="output folder (default datasets/druglike)")
    parser.add_argument("--chunks", default=str(CHUNKS),
                        help="where finished chunks are kept (default build/druglike-chunks)")
    parser.add_argument("--fresh", action="store_true", help="forget finished chunks and start over")
    args = parser.parse_args(argv)
    targets = {split: (kind, getattr(args, split)) for split, (kind, _) in TARGETS.items()}
    sys.path.insert(0, str(ROOT))

    def log(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    try:
        build(find_wheel(args.moses_wheel), Path(args.out), targets, max(1, args.workers), Path(args.chunks),
              args.fresh, log)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
