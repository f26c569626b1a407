"""Goal-directed benchmark: GuacaMol tasks that fit this machine, agent against prior sampling.

Tasks (GuacaMol, Brown et al. 2019), each scored on names that OPSIN parses and
RDKit sanitises (others score 0):

* celecoxib rediscovery: Tanimoto similarity to celecoxib;
* troglitazone rediscovery: Tanimoto similarity to troglitazone;
* aripiprazole similarity: similarity to aripiprazole clipped at 0.75
  (GuacaMol's thresholded score: min(sim, 0.75) / 0.75).

Fingerprints are Morgan radius 2 bit vectors of 2048 bits (ECFP4-like) by
default; ``--fp counts`` uses unhashed Morgan counts, GuacaMol's own ECFP4.

For each task the agent (``chemgen optimize`` from the prior) runs for
``--steps`` steps or ``--minutes``. The baseline samples names from the prior
and scores them with the same scoring function, in batches of the agent's size,
twice over: name-matched (as many names as the agent scored) and time-matched
(for as long as the agent's run took, start-up included on both sides); one
sampling run gives both rows (``--baseline`` picks). Printed: names scored,
wall time, best score, mean of the top 10 and top 100 unique structures
(missing ones count 0, as in GuacaMol), and the share of valid names over the
same two windows for every row: all its names, and its last tenth of batches.

    python bench/goal_directed.py --tasks celecoxib --steps 50 --seed 0 [--baseline names|time|both|none]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.common import print_table  # noqa: E402
from chemgen.filters import Candidate  # noqa: E402
from chemgen.goal import optimize  # noqa: E402
from chemgen.goal.agent import structures  # noqa: E402
from chemgen.model.estimator import load  # noqa: E402
from chemgen.model.sample import sample_names  # noqa: E402
from chemgen.goal.scoring import ScoringFunction  # noqa: E402

TASKS = {
    "celecoxib": ("Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F", ""),
    "troglitazone": ("Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O", ""),
    "aripiprazole": ("Clc4cccc(N3CCN(CCCCOc2ccc1c(NC(=O)CC1)c2)CC3)c4Cl", "[transform=clip,low=0,high=0.75]"),
}


def spec_for(task: str, fp: str) -> str:
    smiles, settings = TASKS[task]
    return f"opsin,rdkit,similar(to={smiles},fp={fp}){settings}"


def top_means(best_scores: list[float]) -> tuple[float, float, float]:
    scores = sorted(best_scores, reverse=True)
    return (scores[0] if scores else 0.0, sum(scores[:10]) / 10, sum(scores[:100]) / 100)


def run_agent(task: str, args) -> tuple:
    started = time.perf_counter()

    def progress(line: str) -> None:
        step = int(line.split()[1].split("/")[0])
        if step == 1 or step % args.print_every == 0:
            print(f"  {task}: {line}", file=sys.stderr, flush=True)

    result = optimize(spec_for(task, args.fp), prior=args.prior, steps=args.steps, batch_size=args.batch_size,
                      learning_rate=args.lr, sigma=args.sigma, random_state=args.seed,
                      diversity_filter=not args.no_diversity_filter, bucket_size=args.bucket_size,
                      time_limit=args.minutes * 60, threads=args.threads, progress=progress,
                      out=(args.out_prefix or None) and f"{args.out_prefix}{task}.npz",
                      log=(args.out_prefix or None) and f"{args.out_prefix}{task}.jsonl",
                      summary=(args.out_prefix or None) and f"{args.out_prefix}{task}.csv")
    wall = time.perf_counter() - started
    valid = validity([row["valid"] for row in result.history])
    best, top10, top100 = top_means([row["score"] for row in result.best if row["smiles"]])
    top = result.best[0]["smiles"] if result.best else ""
    return ("agent", result.names_scored, wall, best, top10, top100, *valid, top)


def validity(shares: list[float]) -> tuple[float, float]:
    """The valid share over all batches and over their last tenth (batches of one size)."""
    if not shares:
        return 0.0, 0.0
    return float(np.mean(shares)), float(np.mean(shares[-max(1, len(shares) // 10):]))


def run_baseline(task: str, names: int, seconds: float, args) -> list[tuple]:
    """Prior sampling scored like the agent's names: a row when it has scored ``names`` names and a row when
    it has run ``seconds`` (for each that ``--baseline`` asks for), from one run."""
    targets = {"names": args.baseline in ("names", "both"), "time": args.baseline in ("time", "both")}
    started = time.perf_counter()
    prior = load(args.prior).learned_
    rng = np.random.default_rng(args.seed)
    best: dict[str, float] = {}
    shares: list[float] = []  # valid share of each batch
    rows: dict[str, tuple] = {}
    done = 0
    with ScoringFunction.from_spec(spec_for(task, args.fp)) as scoring:
        while (targets["names"] and done < names) or (targets["time"] and time.perf_counter() - started < seconds):
            size = min(args.batch_size, names - done) if done < names else args.batch_size  # names: exactly
            batch = sample_names(prior, size, random_state=int(rng.integers(2**63)), threads=args.threads)
            candidates = [Candidate(s.name, s.logp) for s in batch]
            totals = scoring.score(candidates).total
            smiles, _ = structures(candidates)
            for key, score in zip(smiles, totals):
                if key is not None:
                    best[key] = max(best.get(key, 0.0), float(score))
            shares.append(sum(key is not None for key in smiles) / max(1, len(smiles)))
            done += len(batch)
            wall = time.perf_counter() - started
            for label, reached in (("names", done >= names), ("time", wall >= seconds)):
                if targets[label] and reached and label not in rows:
                    top = max(best, key=best.get) if best else ""
                    rows[label] = (f"prior sampling, same {label}", done, wall, *top_means(list(best.values())),
                                   *validity(shares), top)
    return [rows[label] for label in ("names", "time") if label in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="celecoxib,troglitazone,aripiprazole", help="comma-separated tasks")
    parser.add_argument("--prior", default=None, help="prior model file or shipped name (default: the default model)")
    parser.add_argument("--steps", type=int, default=300, help="agent steps per task (default 300)")
    parser.add_argument("--minutes", type=float, default=30.0, help="time limit per agent run (default 30)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4, help="agent learning rate (default 1e-4)")
    parser.add_argument("--sigma", type=float, default=128.0, help="score multiplier (default 128)")
    parser.add_argument("--bucket-size", type=int, default=25,
                        help="diversity filter: hits allowed per Murcko scaffold (default 25, the agent's own)")
    parser.add_argument("--no-diversity-filter", action="store_true", help="run the agent without the diversity filter")
    parser.add_argument("--fp", choices=["bits", "counts"], default="bits", help="fingerprint (default bits)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="threads sharing each step (chemgen optimize --threads)")
    parser.add_argument("--print-every", type=int, default=10, help="agent progress line every N steps")
    parser.add_argument("--out-prefix", default="", help="write PREFIX<task>.npz/.jsonl/.csv for each agent run")
    parser.add_argument("--baseline", choices=["names", "time", "both", "none"], default="both",
                        help="prior sampling for as many names as the agent scored, for as long as it ran, both "
                             "(default; one run) or none")
    parser.add_argument("--no-baseline", action="store_const", const="none", dest="baseline",
                        help="the same as --baseline none")
    args = parser.parse_args()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        sys.exit(f"unknown task {unknown[0]!r} (tasks: {', '.join(TASKS)})")
    rows = []
    for task in tasks:
        agent = run_agent(task, args)
        rows.append((task, *agent[:8]))
        print(f"  {task}: agent best structure {agent[8]}", file=sys.stderr)
        if args.baseline != "none":
            for baseline in run_baseline(task, agent[1], agent[2], args):
                rows.append((task, *baseline[:8]))
                print(f"  {task}: {baseline[0]}: best structure {baseline[8]}", file=sys.stderr)
    diversity = "off" if args.no_diversity_filter else f"{args.bucket_size} hits per scaffold"
    print(f"goal-directed tasks, prior {args.prior or 'default'}, batch {args.batch_size}, lr {args.lr:g}, "
          f"sigma {args.sigma:g}, fingerprint {args.fp}, diversity filter {diversity}, seed {args.seed}, "
          f"threads {args.threads}")
    print_table(["task", "method", "names scored", "wall s", "best", "top-10", "top-100", "valid (all)",
                 "valid (last tenth)"],
                [(t, m, n, float(w), b, t10, t100, f"{100 * v:.0f}%", f"{100 * vt:.0f}%")
                 for t, m, n, w, b, t10, t100, v, vt in rows])


if __name__ == "__main__":
    main()
