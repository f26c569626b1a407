"""``chemgen evaluate`` and ``chemgen report``: a model's figures, and its card as an HTML page."""
from __future__ import annotations

import json
import math
import sys
from typing import Any

from chemgen.cli.common import add_config_flags, add_model_option, default_model_help, given_settings, positive_int


def add_evaluate(sub) -> None:
    from chemgen.model.config import SamplingConfig

    p = sub.add_parser("evaluate", help="validity, uniqueness, novelty and NLL of a model",
                       description="Measure a model: held-out NLL, validity, uniqueness, novelty, diversity.")
    add_model_option(p)
    p.add_argument("--samples", type=positive_int, default=10000, help="names to sample (default 10000)")
    p.add_argument("--reference", help="held-out names file (NLL, and the reference's own figures as the ceiling)")
    add_config_flags(p, SamplingConfig, only=("temperature",))
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--train", help="training names or molecules file (.smi, .csv, .tsv, .sdf): structural novelty "
                                   "against its structures (default: against the shipped known-compounds index)")
    p.add_argument("--json", dest="json_out", help="also write the figures as JSON to this file, undefined ones null "
                                                   "(-: to stdout, which then holds the JSON alone; the table goes "
                                                   "to stderr)")
    p.add_argument("--report", help="also write a self-contained HTML report (figures, property plots, structures, "
                                    "training curve) to this file; needs chemgen[notebook]")
    add_config_flags(p, SamplingConfig, only=("grammar",))
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from chemgen.evaluation.evaluate import evaluate_checked, format_table
    from chemgen.io.atomic import check_distinct, check_writable
    from chemgen.io.names import read_training_names
    from chemgen.model.config import SamplingConfig
    from chemgen.model.estimator import load, resolve_model

    check_distinct({"--model": resolve_model(args.model), "--reference": args.reference, "--train": args.train},
                   {"--json": args.json_out, "--report": getattr(args, "report", None)}, stdout=True)
    if args.json_out and args.json_out != "-":
        check_writable(args.json_out, "--json")
    report = getattr(args, "report", None)
    if report:
        check_writable(report, "--report")
        from chemgen.evaluation.report import check_report_dependencies

        check_report_dependencies()
    model = load(args.model)
    reference = read_training_names(args.reference) if args.reference else None
    sampling = SamplingConfig(**given_settings(args, SamplingConfig))
    result, checked, checked_reference = evaluate_checked(model, args.samples, reference, sampling.temperature,
                                                          args.seed, args.train, sampling.grammar)
    print(format_table(result), file=sys.stderr if args.json_out == "-" else sys.stdout)  # stdout: the JSON alone
    if report:
        from chemgen.evaluation.report import write_evaluation_report
        from chemgen.model.estimator import resolve_model

        write_evaluation_report(report, result, checked, checked_reference, model,
                                str(resolve_model(args.model)), args.reference)
        print(f"chemgen: wrote the report to {report}", file=sys.stderr)
    if args.json_out == "-":
        print(json.dumps(json_ready(result), indent=2))
    elif args.json_out:
        from chemgen.io.atomic import atomic_text

        with atomic_text(args.json_out) as handle:
            json.dump(json_ready(result), handle, indent=2)
    return 0


def json_ready(figures: Any) -> Any:
    """The figures with every undefined one (NaN, infinite) as None, so the file is JSON (null), not NaN."""
    if isinstance(figures, dict):
        return {key: json_ready(value) for key, value in figures.items()}
    return None if isinstance(figures, float) and not math.isfinite(figures) else figures


def add_report(sub) -> None:
    p = sub.add_parser("report", help="a model's card and training curve as an HTML page",
                       description="Write a self-contained HTML page with a model's card and training curve.")
    p.add_argument("model", nargs="?", help=default_model_help())
    p.add_argument("--output", "-o", required=True, help="HTML file to write")
    p.set_defaults(run=run_report)


def run_report(args) -> int:
    from chemgen.evaluation.report import check_report_dependencies, write_model_report
    from chemgen.io.atomic import check_distinct, check_writable
    from chemgen.model.estimator import CharRNN, resolve_model

    path = resolve_model(args.model)
    check_distinct({"model": path}, {"--output": args.output})
    check_writable(args.output, "--output")
    check_report_dependencies()
    write_model_report(args.output, CharRNN.load(path), str(path))
    print(f"chemgen: wrote the model report to {args.output}", file=sys.stderr)
    return 0
