"""PMO benchmark (Gao et al. 2022, "Sample Efficiency Matters"): the 20 tasks that need no downloaded model.

The protocol is PMO's: a budget of ``--budget`` distinct valid structures
scored (10,000), the AUC of the top-10 curve (every 100 structures the mean
of the 10 best so far, trapezoid rule, a run that stops early extended flat,
divided by the budget; :func:`chemgen.goal.oracle.auc_top_k`), and top-1/10/100
means. Two methods per task and seed:

* ``chemgen``: ``chemgen.optimize`` steered by the task's oracle with a
  budget (one call, in :func:`optimize_task`; ``--set KEY=VALUE`` passes its
  settings, e.g. ``--set patience=5`` for PMO's REINVENT stopping rule); the
  bench wraps the oracle to count what it is sent, so the AUC is computed from
  what the oracle saw, in its order;
* ``prior``: no learning. Names sampled from the prior at T = 1.0 (seeded
  by the seed), OPSIN-parsed (case restored, as ``chemgen optimize`` does);
  the first ``budget`` distinct structures that RDKit sanitises, in sampling
  order, are the run. The sample is cached beside the results file and
  shared by the tasks.

Objectives are GuacaMol's (``guacamol`` 0.5.5, Brown et al. 2019; install it
with ``pip install --no-deps guacamol==0.5.5``), as PMO's oracles (PyTDC)
re-implement them. PyTDC differs on the tasks with a molecular formula: up
to PyTDC 0.3.7 (PMO recommends 0.3.6) the total atom count of
``isomers_*``, ``zaleplon_mpo`` and ``sitagliptin_mpo`` was read from the
SMILES text (hydrogens and aromatic atoms missed), fixed in 2022-08 to
GuacaMol's count; PyTDC 0.3.6's ``sitagliptin_mpo`` also lacked the logP, TPSA
and similarity modifiers (fixed 2022-04). This bench follows GuacaMol.
GuacaMol's "could not score" value (-1) counts 0.

Results go to ``--out`` (JSON Lines, one row per task x method x seed x
budget); a row already there is not run again, so a sweep resumes where it
stopped. The table (per task: AUC top-10 mean +- sd over seeds and their
count, top-10, minutes, distinct structures, valid names; REINVENT's figure
beside; sums) is printed and written with ``--csv`` / ``--json``.

    python bench/pmo.py --tasks qed,celecoxib_rediscovery --budget 300 --baseline-only --out /tmp/pmo.jsonl
    python bench/pmo.py --seeds 0 --out pmo.jsonl                 # all 20 tasks, chemgen and the prior
    python bench/pmo.py --tasks celecoxib_rediscovery,median1 --seeds 0,1,2 --out pmo.jsonl --csv pmo.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import parse_setting  # noqa: E402
from chemgen.chem.molecules import quiet_rdkit  # noqa: E402
from chemgen.errors import ChemgenError, ConfigError  # noqa: E402
from chemgen.goal.oracle import ScoredStructures, auc_top_k, canonical_smiles, top_k_mean  # noqa: E402

BUDGET = 10_000
AUC_K, AUC_FREQ = 10, 100  # PMO: top-10, a point every 100 structures
SAMPLE_CHUNK = 500  # names sampled and OPSIN-parsed at a time for the prior baseline
GUACAMOL_INSTALL = "pip install --no-deps guacamol==0.5.5"

# AUC top-10 of REINVENT (SMILES) on these tasks, mean of 5 seeds: Gao et al., "Sample Efficiency Matters:
# A Benchmark for Practical Molecular Optimization", NeurIPS 2022 Datasets and Benchmarks, Table 2 (as quoted
# in chemgen's issue 30; 20-task sum 11.59, 11.60 from the paper's unrounded 23-task total less drd2, gsk3b, jnk3).
REINVENT = {
    "albuterol_similarity": 0.882, "amlodipine_mpo": 0.635, "celecoxib_rediscovery": 0.713, "deco_hop": 0.666,
    "fexofenadine_mpo": 0.784, "isomers_c7h8n2o2": 0.852, "isomers_c9h10n2o2pf2cl": 0.642, "median1": 0.356,
    "median2": 0.276, "mestranol_similarity": 0.618, "osimertinib_mpo": 0.837, "perindopril_mpo": 0.537,
    "qed": 0.941, "ranolazine_mpo": 0.760, "scaffold_hop": 0.560, "sitagliptin_mpo": 0.021,
    "thiothixene_rediscovery": 0.534, "troglitazone_rediscovery": 0.441, "valsartan_smarts": 0.178,
    "zaleplon_mpo": 0.358,
}

# PMO task -> the GuacaMol benchmark holding its objective: a name in goal_directed_suite_v2, or a function
# of guacamol.standard_benchmarks (for the two that suite lacks).
GUACAMOL_TASKS = {
    "albuterol_similarity": "Albuterol similarity", "amlodipine_mpo": "Amlodipine MPO",
    "celecoxib_rediscovery": "Celecoxib rediscovery", "deco_hop": "Deco Hop",
    "fexofenadine_mpo": "Fexofenadine MPO", "isomers_c7h8n2o2": "isomers_c7h8n2o2",
    "isomers_c9h10n2o2pf2cl": "C9H10N2O2PF2Cl", "median1": "Median molecules 1", "median2": "Median molecules 2",
    "mestranol_similarity": "Mestranol similarity", "osimertinib_mpo": "Osimertinib MPO",
    "perindopril_mpo": "Perindopril MPO", "qed": "qed_benchmark", "ranolazine_mpo": "Ranolazine MPO",
    "scaffold_hop": "Scaffold Hop", "sitagliptin_mpo": "Sitagliptin MPO",
    "thiothixene_rediscovery": "Thiothixene rediscovery", "troglitazone_rediscovery": "Troglitazone rediscovery",
    "valsartan_smarts": "Valsartan SMARTS", "zaleplon_mpo": "Zaleplon MPO",
}
TASKS = tuple(sorted(GUACAMOL_TASKS))
METHODS = ("chemgen", "prior")


# ---------------------------------------------------------------- the tasks


def guacamol_benchmarks() -> types.ModuleType:
    """``guacamol.standard_benchmarks``, importable on today's SciPy and without fcd; ConfigError if absent."""
    import scipy

    if not hasattr(scipy, "histogram"):  # guacamol.utils.chemistry imports it; SciPy dropped the NumPy alias
        scipy.histogram = np.histogram
    if "guacamol.frechet_benchmark" not in sys.modules:  # imports fcd (a torch model) for the Frechet benchmark only
        stub = types.ModuleType("guacamol.frechet_benchmark")

        class FrechetBenchmark:  # noqa: D401 - stands in for the one class standard_benchmarks imports
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                raise RuntimeError("the Frechet benchmark is not available in bench/pmo.py")

        stub.FrechetBenchmark = FrechetBenchmark
        sys.modules["guacamol.frechet_benchmark"] = stub
    try:
        from guacamol import standard_benchmarks
    except ImportError as exc:
        raise ConfigError(f"the PMO tasks need guacamol ({GUACAMOL_INSTALL}): {exc}") from None
    return standard_benchmarks


def task_objective(task: str) -> Any:
    """The GuacaMol scoring function (``.score_list(smiles)``) of a PMO task."""
    if task not in GUACAMOL_TASKS:
        raise ConfigError(f"unknown PMO task {task!r} (tasks: {', '.join(TASKS)})")
    benchmarks = guacamol_benchmarks()
    name = GUACAMOL_TASKS[task]
    if hasattr(benchmarks, name):
        return getattr(benchmarks, name)().objective
    from guacamol.benchmark_suites import goal_directed_suite_v2

    return {b.name: b for b in goal_directed_suite_v2()}[name].objective


def task_oracle(task: str) -> Callable[[list[str]], list[float]]:
    """A PMO task as an oracle: a list of SMILES -> one score in [0, 1] each."""
    objective = task_objective(task)

    def oracle(smiles: list[str]) -> list[float]:
        with quiet_rdkit():
            return [max(0.0, float(s)) for s in objective.score_list(list(smiles))]

    oracle.__name__ = task
    return oracle


def run_figures(scores: list[float], budget: int) -> dict[str, float]:
    """PMO's figures of a run's scores in call order."""
    scores = scores[:budget]
    return {"auc_top10": auc_top_k(scores, AUC_K, AUC_FREQ, budget), "auc_top1": auc_top_k(scores, 1, AUC_FREQ, budget),
            "auc_top100": auc_top_k(scores, 100, AUC_FREQ, budget), "top1": top_k_mean(scores, 1),
            "top10": top_k_mean(scores, 10), "top100": top_k_mean(scores, 100)}


# ---------------------------------------------------------------- chemgen's optimizer


class Recording:
    """Wraps a task oracle: what the optimizer sends, in order, so the bench computes the figures itself."""

    def __init__(self, oracle: Callable[[list[str]], list[float]]) -> None:
        self.oracle = oracle
        self.smiles: list[str] = []
        self.scores: list[float] = []
        self.seen: set[str] = set()
        self.duplicates = 0  # structures sent again (the protocol forbids it)
        self.__name__ = getattr(oracle, "__name__", "oracle")

    def __call__(self, smiles: list[str]) -> list[float]:
        scores = self.oracle(smiles)
        for s, score in zip(smiles, scores):
            key = canonical_smiles(s) or s
            self.duplicates += key in self.seen
            self.seen.add(key)
            self.smiles.append(s)
            self.scores.append(score)
        return scores


def optimize_task(oracle: Callable[[list[str]], list[float]], budget: int, seed: int,
                  args: argparse.Namespace) -> dict[str, Any]:
    """The one call into chemgen's optimizer: ``chemgen.optimize(callable, budget=N, random_state=seed, ...)``
    runs until N distinct valid structures were scored (or the agent collapsed).

    Returns what the bench cannot see through the oracle: names sampled, names
    with a valid structure, steps, why the run stopped, and chemgen's own AUC
    (which the bench's, from what the oracle saw, must equal).
    """
    import chemgen

    def progress(line: str) -> None:
        if line.startswith("stopped") or (line.startswith("step ") and int(line.split()[1].split("/")[0]) % 10 == 0):
            print(f"  {line}", file=sys.stderr, flush=True)

    result = chemgen.optimize(oracle, prior=args.prior, budget=budget, random_state=seed, progress=progress,
                              **args.settings)
    return {"names": result.names_scored, "valid_names": result.valid_names, "steps": result.steps_done,
            "stop_reason": result.stop_reason, "chemgen_auc_top10": result.auc_top10}


def run_chemgen(task: str, seed: int, budget: int, args: argparse.Namespace) -> dict[str, Any]:
    recording = Recording(task_oracle(task))
    started = time.perf_counter()
    extra = optimize_task(recording, budget, seed, args)
    seconds = time.perf_counter() - started
    names, valid = extra.get("names"), extra.get("valid_names")
    return {**run_figures(recording.scores, budget), "distinct": min(len(recording.scores), budget),
            "sent": len(recording.scores), "duplicates": recording.duplicates, "names": names,
            "validity": valid / names if names and valid is not None else None, "seconds": seconds,
            "steps": extra.get("steps"), "stop_reason": extra.get("stop_reason"),
            "chemgen_auc_top10": extra.get("chemgen_auc_top10"), "settings": args.settings}


# ---------------------------------------------------------------- prior sampling


def prior_sample(model_path: Path, seed: int, budget: int, cache_dir: Path) -> dict[str, Any]:
    """The first ``budget`` distinct valid structures sampled from the prior at T = 1.0 (cached on disk)."""
    from chemgen.model.estimator import file_sha256

    sha = file_sha256(model_path)
    cache = cache_dir / f"prior-{sha[:12]}-seed{seed}-budget{budget}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    sample = _sample_structures(model_path, seed, budget)
    sample.update(model=str(model_path), sha256=sha, seed=seed, budget=budget)
    cache.write_text(json.dumps(sample), encoding="utf-8")
    return sample


def _sample_structures(model_path: Path, seed: int, budget: int) -> dict[str, Any]:
    from chemgen.filters import Candidate, build_filters
    from chemgen.model.estimator import load
    from chemgen.model.sample import sample_names

    learned = load(model_path)._check_fitted()
    rng = np.random.default_rng(seed)
    opsin = build_filters("opsin")[0]
    structures: dict[str, None] = {}  # distinct canonical SMILES in sampling order
    names = valid = 0
    started = time.perf_counter()
    opsin.prepare()
    try:
        while len(structures) < budget:
            batch = sample_names(learned, SAMPLE_CHUNK, temperature=1.0, random_state=int(rng.integers(2**63)))
            for sample, verdict in zip(batch, opsin.check([Candidate(s.name) for s in batch])):
                if len(structures) >= budget:
                    break
                names += 1
                smiles = canonical_smiles(verdict.annotations.get("smiles")) if verdict.passed else None
                if smiles is not None:
                    valid += 1
                    structures.setdefault(smiles)
            print(f"  prior seed {seed}: {names:,} names, {len(structures):,} distinct valid structures",
                  file=sys.stderr, flush=True)
    finally:
        opsin.close()
    return {"smiles": list(structures), "names": names, "valid_names": valid,
            "seconds": time.perf_counter() - started}


def run_prior(task: str, sample: dict[str, Any], budget: int) -> dict[str, Any]:
    scored = ScoredStructures(task_oracle(task), budget=budget)
    started = time.perf_counter()
    for start in range(0, len(sample["smiles"]), 1000):
        scored.score(sample["smiles"][start:start + 1000])
    score_seconds = time.perf_counter() - started
    return {**run_figures(scored.scores_in_order(), budget), "distinct": len(scored), "sent": len(scored),
            "duplicates": 0, "names": sample["names"], "validity": sample["valid_names"] / max(1, sample["names"]),
            "seconds": sample["seconds"] + score_seconds, "sample_seconds": sample["seconds"],
            "score_seconds": score_seconds}


# ---------------------------------------------------------------- results file


def read_results(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.is_file():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    print(f"warning: {path}:{number} is not JSON; skipped", file=sys.stderr)
    return rows


def row_key(row: dict[str, Any]) -> tuple:
    return row["task"], row["method"], row["seed"], row["budget"]


def append_result(path: Path, row: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


# ---------------------------------------------------------------- the table


def mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def summary(rows: list[dict[str, Any]], tasks: list[str], budget: int) -> list[dict[str, Any]]:
    """One record per task and method present: means over seeds (AUC with its sd), REINVENT's figure."""
    records = []
    for task in tasks:
        for method in METHODS:
            runs = [r for r in rows if r["task"] == task and r["method"] == method and r["budget"] == budget]
            if not runs:
                continue
            auc, sd = mean_sd([r["auc_top10"] for r in runs])  # sd NaN (null in JSON) for one seed
            validity = [r["validity"] for r in runs if r.get("validity") is not None]
            records.append({
                "task": task, "method": method, "seeds": len(runs), "auc_top10": auc, "auc_top10_sd": sd,
                "top1": float(np.mean([r["top1"] for r in runs])), "top10": float(np.mean([r["top10"] for r in runs])),
                "top100": float(np.mean([r["top100"] for r in runs])),
                "minutes": float(np.mean([r["seconds"] for r in runs])) / 60,
                "distinct": float(np.mean([r["distinct"] for r in runs])),
                "validity": float(np.mean(validity)) if validity else None,
                "reinvent": REINVENT[task], "budget": budget,
            })
    return records


def sums(records: list[dict[str, Any]]) -> dict[str, tuple[float, float, int]]:
    """Per method: its AUC sum, REINVENT's sum over the same tasks, and the task count."""
    out = {}
    for method in METHODS:
        mine = [r for r in records if r["method"] == method]
        if mine:
            out[method] = (sum(r["auc_top10"] for r in mine), sum(r["reinvent"] for r in mine), len(mine))
    return out


def print_summary(records: list[dict[str, Any]], budget: int) -> None:
    header = ["task", "method", "AUC top-10", "seeds", "top-10", "minutes", "distinct", "valid", "REINVENT"]
    lines = [header]
    for r in records:
        validity = "-" if r["validity"] is None else f"{100 * r['validity']:.0f}%"
        sd = "" if math.isnan(r["auc_top10_sd"]) else f" ± {r['auc_top10_sd']:.3f}"  # no sd of one seed
        lines.append([r["task"], r["method"], f"{r['auc_top10']:.3f}{sd}", str(r["seeds"]),
                      f"{r['top10']:.3f}", f"{r['minutes']:.1f}", f"{r['distinct']:,.0f}", validity,
                      f"{r['reinvent']:.3f}"])
    for method, (total, reinvent, count) in sums(records).items():
        lines.append([f"sum ({count} tasks)", method, f"{total:.2f}", "", "", "", "", "", f"{reinvent:.2f}"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"PMO, budget {budget:,} distinct structures, AUC top-{AUC_K} every {AUC_FREQ}")
    for line in lines:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def write_summary(records: list[dict[str, Any]], csv_path: Optional[str], json_path: Optional[str]) -> None:
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]) if records else ["task"])
            writer.writeheader()
            writer.writerows(records)
    if json_path:
        totals = {m: {"auc_top10_sum": t, "reinvent_sum": r, "tasks": n} for m, (t, r, n) in sums(records).items()}
        plain = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in records]
        Path(json_path).write_text(json.dumps({"tasks": plain, "sums": totals}, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="all", help="comma-separated PMO tasks, or all (default)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--budget", type=int, default=BUDGET, help=f"distinct structures scored (default {BUDGET})")
    parser.add_argument("--out", default="pmo.jsonl", help="results, JSON Lines; resumed (default pmo.jsonl)")
    parser.add_argument("--csv", default=None, help="write the table as CSV")
    parser.add_argument("--json", default=None, help="write the table as JSON")
    parser.add_argument("--prior", default=None, help="prior model file or shipped name (default: the default model)")
    parser.add_argument("--baseline-only", action="store_true", help="run only the prior-sampling baseline")
    parser.add_argument("--no-baseline", action="store_true", help="skip the prior-sampling baseline")
    parser.add_argument("--table-only", action="store_true", help="run nothing; print the table of --out")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an optimizer setting passed to chemgen.optimize (repeatable)")
    args = parser.parse_args(argv)
    names = TASKS if args.tasks.strip() == "all" else [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in names if t not in GUACAMOL_TASKS]
    if unknown:
        parser.error(f"unknown task {unknown[0]!r} (tasks: {', '.join(TASKS)})")
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds must be whole numbers, not {args.seeds!r}")
    if args.budget < 1:
        parser.error("--budget must be at least 1")
    args.task_list, args.settings = list(names), dict(parse_setting(s) for s in args.set)
    args.methods = [m for m in METHODS if not (m == "chemgen" and args.baseline_only)
                    and not (m == "prior" and args.no_baseline)]
    return args


def run(args: argparse.Namespace) -> None:
    from chemgen.model.estimator import resolve_model

    out = Path(args.out)
    done = {row_key(r) for r in read_results(out)}
    model_path = resolve_model(args.prior).resolve()
    for seed in args.seed_list:
        for task in args.task_list:
            for method in args.methods:
                if (task, method, seed, args.budget) in done:
                    continue
                print(f"{task} {method} seed {seed} budget {args.budget:,}", file=sys.stderr, flush=True)
                if method == "prior":
                    figures = run_prior(task, prior_sample(model_path, seed, args.budget, out.parent), args.budget)
                else:
                    figures = run_chemgen(task, seed, args.budget, args)
                row = {"task": task, "method": method, "seed": seed, "budget": args.budget, **figures,
                       "model": str(model_path), "date": time.strftime("%Y-%m-%d %H:%M")}
                append_result(out, row)
                print(f"  auc top-10 {row['auc_top10']:.3f}  top-10 {row['top10']:.3f}  "
                      f"{row['seconds']:.0f} s", file=sys.stderr, flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if not args.table_only:
            guacamol_benchmarks()  # fail early when guacamol is missing
            run(args)
    except ChemgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished rows are kept in the results file", file=sys.stderr)
    records = summary(read_results(Path(args.out)), args.task_list, args.budget)
    print_summary(records, args.budget)
    write_summary(records, args.csv, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
