"""Scaling out on Dask: throughput with 1 and 2 workers, a large run's wall time, the client's peak memory.

    python bench/scale.py [--tries 4000] [--task-size 500] [--large 20000] [--client-candidates 1000000]

Three measurements, each in its own process so peak memory (RSS) is the client's own:

* throughput: names tried and candidates kept per second through
  ``--filters opsin,rdkit`` (shipped model, ``--tries`` names, tasks of
  ``--task-size``) on a LocalCluster of 1 and of 2 one-thread workers, and the
  ratio. Wall time includes each worker's OPSIN start.
* large run: ``chemgen generate -n LARGE --workers 2 --filters LARGE_FILTERS
  --format jsonl -o ...`` end to end: wall time and the client's peak RSS.
* client memory at scale: ``--client-candidates`` distinct candidates shaped
  like opsin,rdkit survivors (a real one's fields, fresh names and InChIKeys)
  fed shard by shard to the client's collector, ranked and streamed to JSONL,
  as a cluster run of that size would: wall time and peak RSS. It isolates
  the client from sampling speed, which on a 2-core machine would make a real
  million-candidate run take hours.

Figures from the 2-core development machine, shared with other jobs, are in the
documentation's benchmarks page (docs/benchmarks.md, "Many machines").
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def throughput(workers: int, tries: int, task_size: int, filters: str) -> dict:
    import chemgen
    from chemgen.generation.cluster import cluster_client

    model = chemgen.load()
    with cluster_client(workers=workers) as client:
        start = time.perf_counter()
        results = chemgen.generate(10**6, model, filters, seed=0, max_tries=tries, client=client,
                                   task_size=task_size, spool=True)
        wall = time.perf_counter() - start
    return {"workers": workers, "tried": results.tried, "kept": len(results), "wall_s": wall,
            "tried_per_s": results.tried / wall, "kept_per_s": len(results) / wall}


def large_run(n: int, filters: str, task_size: int, model: str | None) -> dict:
    from chemgen.cli import main

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "lib.jsonl")
        argv = ["generate", "-n", str(n), "--filters", filters, "--workers", "2", "--seed", "0",
                "--task-size", str(task_size), "--format", "jsonl", "-o", out]
        if model:
            argv += ["--model", model]
        start = time.perf_counter()
        code = main(argv)
        wall = time.perf_counter() - start
        lines = sum(1 for _ in open(out, encoding="utf-8")) if code == 0 else 0
    return {"n": n, "filters": filters, "exit": code, "written": lines, "wall_s": wall, "client_peak_mb": peak_rss_mb()}


def client_memory(count: int, shard: int) -> dict:
    """The client's side of a ``count``-candidate run: merge shards, rank, stream JSONL."""
    import copy
    import hashlib

    from chemgen.filters import FilterStage
    from chemgen.generation.collector import Collector, SpoolStore
    from chemgen.generation.pipeline import check
    from chemgen.output.writers import write_jsonl

    template = None
    try:
        template = check(["2-methylpropan-1-ol"], filters="opsin,rdkit")[0]
    except Exception as exc:  # no Java: an rdkit-only candidate still has the properties
        print(f"(opsin unavailable: {exc}; template from rdkit only)", file=sys.stderr)
    if template is None or not template.passed:
        with FilterStage("rdkit") as stage:
            from chemgen.filters import Candidate

            template = stage.run([Candidate("x", smiles="CC(C)CO")])[0]
    start = time.perf_counter()
    collector = Collector(store=SpoolStore())
    for first in range(0, count, shard):
        part = Collector()
        for i in range(first, min(count, first + shard)):
            c = copy.copy(template)
            c.name = f"{i}-{template.name}-{i % 977}"
            c.logp, c.logp_per_char = -10.0 - (i % 100003) / 1000, -0.3 - (i % 1009) / 1e4
            c.inchikey = hashlib.sha1(str(i).encode()).hexdigest()[:27].upper()
            part.tried += 1
            part.by_key[c.inchikey] = c
        collector.merge_in(part)
    merged = time.perf_counter() - start
    results = collector.spooled_results(count)
    with tempfile.TemporaryDirectory() as folder:
        written = write_jsonl(results, os.path.join(folder, "lib.jsonl"))
    results.close()
    return {"candidates": count, "written": written, "merge_s": merged, "wall_s": time.perf_counter() - start,
            "client_peak_mb": peak_rss_mb()}


def in_child(kind: str, **options) -> dict:
    """Run one measurement in a fresh interpreter; its JSON line is the answer."""
    code = ("import json, sys; sys.path.insert(0, %r); from bench.scale import %s as f; "
            "print('RESULT ' + json.dumps(f(**json.loads(sys.argv[1]))))" % (str(ROOT), kind))
    env = dict(os.environ, CHEMGEN_NO_PROGRESS="1")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(options)], capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=4000, help="names per throughput run (default 4000)")
    parser.add_argument("--task-size", type=int, default=500, help="names per task (default 500)")
    parser.add_argument("--filters", default="opsin,rdkit", help="filters of the throughput runs")
    parser.add_argument("--large", type=int, default=20000, help="candidates of the large run (0: skip)")
    parser.add_argument("--large-filters", default="none", help="filters of the large run (default none)")
    parser.add_argument("--large-model", help="model of the large run (default: the shipped one)")
    parser.add_argument("--client-candidates", type=int, default=1_000_000, help="client-memory run size (0: skip)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = [in_child("throughput", workers=w, tries=args.tries, task_size=args.task_size, filters=args.filters)
            for w in (1, 2)]
    for row in rows:
        print(f"{row['workers']} worker(s), --filters {args.filters}: {row['tried']} tried, {row['kept']} kept in "
              f"{row['wall_s']:.1f} s = {row['tried_per_s']:.1f} names/s, {row['kept_per_s']:.1f} candidates/s")
    print(f"ratio 2/1 workers: {rows[1]['kept_per_s'] / rows[0]['kept_per_s']:.2f}x candidates/s, "
          f"{rows[1]['tried_per_s'] / rows[0]['tried_per_s']:.2f}x names/s")
    if args.large:
        big = in_child("large_run", n=args.large, filters=args.large_filters, task_size=2000, model=args.large_model)
        print(f"large run: -n {big['n']} --filters {big['filters']} --workers 2: exit {big['exit']}, "
              f"{big['written']} written in {big['wall_s']:.1f} s, client peak RSS {big['client_peak_mb']:.0f} MB")
    if args.client_candidates:
        mem = in_child("client_memory", count=args.client_candidates, shard=2000)
        print(f"client side of a {mem['candidates']:,}-candidate run: merged in {mem['merge_s']:.1f} s, "
              f"{mem['written']:,} JSONL lines after {mem['wall_s']:.1f} s, client peak RSS "
              f"{mem['client_peak_mb']:.0f} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
