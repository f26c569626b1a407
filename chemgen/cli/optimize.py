"""``chemgen optimize``: goal-directed generation from the command line or a TOML run file."""
from __future__ import annotations

import sys

from chemgen.cli.common import EXIT_INTERRUPTED, add_config_flags, checkpoint_path, filter_options, log_line
from chemgen.errors import ChemgenError


def add_optimize(sub) -> None:
    """``chemgen optimize``: one flag per OptimizeConfig field, plus the scoring spec, run file and outputs."""
    from chemgen.goal.config import OptimizeConfig

    p = sub.add_parser("optimize", help="steer a model toward a score (goal-directed generation)",
                       description="Goal-directed generation: a copy of a prior model learns to write names that "
                                   "score high (REINVENT's DAP rule); the filters are the scoring components.")
    p.add_argument("--score", help="scoring components, filter specs with optional [settings]: "
                                   "'opsin,rdkit,similar(to=lead.smi)', 'opsin,rdkit[value=qed]', or an external "
                                   "oracle, 'command(run=\"python dock.py\", parallel=4, timeout=600)' (SMILES "
                                   "on stdin, one score in [0, 1] a line on stdout; alone, it is gated by opsin "
                                   "and rdkit; timeout in seconds, default 3600) (overrides the run file's "
                                   "[scoring])")
    p.add_argument("--aggregation", choices=["geometric", "arithmetic"], default=None,
                   help="mean of the graded components (default geometric)")
    p.add_argument("--config", help="TOML run file: settings, outputs and a [scoring] table")
    p.add_argument("--out", help="agent model file to write (required here or in the run file)")
    p.add_argument("--log", help="JSON Lines log of every scored sample")
    p.add_argument("--summary", help="CSV of the best unique structures")
    p.add_argument("--checkpoint", help="checkpoint file (default: OUT with .ckpt.npz)")
    p.add_argument("--resume", help="continue from this checkpoint (same prior and scoring)")
    p.add_argument("--offline", action="store_true", help="no network: the pubchem filter answers from its cache only")
    add_config_flags(p, OptimizeConfig)
    p.set_defaults(run=run_optimize)


def run_optimize(args) -> int:
    from chemgen.goal import OptimizeConfig, OptimizeInterrupted, optimize, read_run_file
    from chemgen.goal.config import resumed, setting_names
    from chemgen.io.atomic import check_distinct
    from chemgen.model.estimator import resolve_model
    from chemgen.goal.scoring import ScoringFunction, scoring_from_table

    settings, outputs, table = read_run_file(args.config) if args.config else ({}, {}, None)
    settings.update({k: v for k, v in vars(args).items() if k in setting_names() and v is not None})
    if args.resume:  # the checkpoint's settings and scoring, unless given again
        settings, table = resumed(args.resume, settings, table)
    outputs.update({k: getattr(args, k) for k in ("out", "log", "summary", "checkpoint") if getattr(args, k)})
    if not outputs.get("out"):
        raise ChemgenError("give --out AGENT.npz (or out = \"...\" in the run file)")
    config = OptimizeConfig(**settings)
    options = filter_options(args)
    if args.score:
        scoring = ScoringFunction.from_spec(args.score, args.aggregation or "geometric", options)
    elif table is not None:
        if args.aggregation:
            table = dict(table, aggregation=args.aggregation)
        scoring = scoring_from_table(table, options)
    else:
        raise ChemgenError("give --score 'opsin,rdkit,...' (or a [scoring] table in the --config run file)")
    ckpt = outputs.get("checkpoint") or checkpoint_path(outputs["out"])
    written = {"--out": outputs["out"], "--log": outputs.get("log"), "--summary": outputs.get("summary"),
               "--checkpoint": ckpt}
    check_distinct({"--prior": resolve_model(config.prior), "--config": args.config}, written)
    check_distinct({"--resume": args.resume}, {k: v for k, v in written.items() if k != "--checkpoint"})
    try:
        result = optimize(scoring, config=config, out=outputs["out"], log=outputs.get("log"),
                          summary=outputs.get("summary"), checkpoint=ckpt, resume=args.resume, progress=log_line)
    except OptimizeInterrupted as stop:
        print(f"chemgen: interrupted at step {stop.step}; checkpoint saved to {stop.checkpoint} "
              f"(continue with --resume {stop.checkpoint}); agent so far in {outputs['out']}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(summary_line(result, outputs["out"]), file=sys.stderr)
    return 0


def summary_line(result, out: str) -> str:
    """The run in one line: steps, names, structures, PMO's figures, the best structure, where the agent is."""
    best = result.best[0] if result.best else None
    best_text = f"best score {best['score']:.3f} ({best['smiles'] or best['name']})" if best else "nothing scored"
    return (f"chemgen: {result.steps_done} steps, {result.names_scored} names scored ({result.valid_names} valid, "
            f"{result.structures} distinct structures) in {result.seconds:.0f} s; AUC top-10 {result.auc_top10:.3f}, "
            f"top-1/10/100 {result.top1:.3f}/{result.top10:.3f}/{result.top100:.3f}; {best_text}; "
            f"agent saved to {out}")
