"""The ``chemgen`` command: train, generate, score, filter, evaluate, filters, optimize, report.

Errors are one line on stderr with exit status 2, never a traceback; Ctrl-C
exits 130 (training saves a checkpoint first). Progress bars show on a
terminal only.
"""
from __future__ import annotations

import argparse
import os
import sys
import typing
import warnings
from typing import Any, Optional, Sequence

from chemgen.errors import ChemgenError, ChemgenWarning

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
IMAGE_STRUCTURES = 24  # structures drawn by --image


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be positive and finite, not {text}")
    return value


def log_line(message: str) -> None:
    """A progress line on stderr that does not tear a progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


# ---------------------------------------------------------------- train


def config_flag_type(name: str, field_type: Any, check) -> Any:
    """An argparse type for one TrainConfig field: parse, then run the field's own check."""
    def convert(text: str) -> Any:
        try:
            value = int(text) if field_type in (int, Optional[int]) else float(text) if field_type is float else text
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} needs a number, not {text!r}") from None
        message = check(name, value)
        if message:
            raise argparse.ArgumentTypeError(message)
        return value
    return convert


def add_config_flags(p, config_class: Any) -> None:
    """One flag per field of a settings dataclass: name, type, choices, help and default all come from the field."""
    from dataclasses import fields

    hints = typing.get_type_hints(config_class)
    for f in fields(config_class):
        meta = f.metadata
        help_text = (meta["help"] + ("" if f.default is None else f" (default {f.default})")).replace("%", "%%")
        if hints[f.name] is bool:
            p.add_argument(meta["flag"], dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                           help=help_text)
        elif meta["choices"]:
            p.add_argument(meta["flag"], dest=f.name, choices=meta["choices"], default=None, help=help_text)
        else:
            p.add_argument(meta["flag"], dest=f.name, type=config_flag_type(f.name, hints[f.name], meta["check"]),
                           default=None, metavar=meta["metavar"], help=help_text)


def add_train(sub) -> None:
    from chemgen.io.molecules import INPUT_FORMATS
    from chemgen.model.config import TrainConfig

    p = sub.add_parser("train", help="train a model on names or molecules, or fine-tune one (--init)",
                       description="Train a char-RNN on names (one per line) or on molecules (.smi, .csv/.tsv with a "
                                   "smiles or name column, .sdf), which are named and checked by an OPSIN round trip.")
    p.add_argument("names", help="training names (.txt, - for stdin) or molecules (.smi, .csv, .tsv, .sdf)")
    p.add_argument("--input-format", choices=INPUT_FORMATS,
                   help="read the input as this format (default: by extension)")
    p.add_argument("--out", required=True, help="model file to write (the best model by validation loss)")
    p.add_argument("--valid", help="validation names file (default: hold out --valid-fraction of the names)")
    p.add_argument("--init", metavar="MODEL", help="fine-tune this model (shipped name or file) on the input: its "
                                                   f"architecture and weights, small-set defaults ({fine_tune_flags()})")
    add_config_flags(p, TrainConfig)
    p.add_argument("--checkpoint", help="checkpoint file (default: OUT with .ckpt.npz)")
    p.add_argument("--checkpoint-every", type=non_negative_int, default=500, help="steps between checkpoints (0: only at the end)")
    p.add_argument("--resume", help="continue from this checkpoint (same names; settings from it unless given)")
    p.set_defaults(run=run_train)


def fine_tune_flags() -> str:
    """The fine-tuning defaults as flags: '--lr 0.001, --epochs 10, ...'."""
    from dataclasses import fields

    from chemgen.model.config import FINE_TUNE_DEFAULTS, TrainConfig

    flags = {f.name: f.metadata["flag"] for f in fields(TrainConfig)}
    shown = ("learning_rate", "epochs", "analogs", "batch_size", "valid_fraction")
    return ", ".join(f"{flags[key]} {FINE_TUNE_DEFAULTS[key]:g}" for key in shown)


def read_input_names(path: str, input_format: Optional[str]) -> list[str]:
    """Names from a names file, or from molecules named and verified (left-out records reported on stderr)."""
    from chemgen.io.molecules import input_format as format_of
    from chemgen.io.names import read_training_names
    from chemgen.series import load_series

    if format_of(path, input_format) == "txt":
        return read_training_names(path)
    series = load_series(path, input_format)
    for problem in series.problems:
        print(f"chemgen: {path}: {problem}; left out", file=sys.stderr)
    print(f"chemgen: {path}: {series.summary()}", file=sys.stderr)
    return series.names


def checkpoint_path(out: str) -> str:
    base = out[:-4] if out.endswith(".npz") else out
    return base + ".ckpt.npz"


def run_train(args) -> int:
    from chemgen.io.atomic import check_writable
    from chemgen.io.names import read_training_names
    from chemgen.model import modelfile
    from chemgen.model.config import known_settings, setting_names
    from chemgen.model.estimator import CharRNN, load
    from chemgen.model.train import TrainingInterrupted

    ckpt = args.checkpoint or checkpoint_path(args.out)
    check_writable(args.out, "model file")
    check_writable(ckpt, "checkpoint")
    start = load(args.init) if args.init else None
    names = read_input_names(args.names, args.input_format)
    valid = read_training_names(args.valid) if args.valid else None
    settings = known_settings(modelfile.read_npz(args.resume)[1].get("settings", {})) if args.resume else {}
    settings.update({k: v for k, v in vars(args).items() if k in setting_names() and v is not None})
    options = dict(checkpoint=ckpt, checkpoint_every=args.checkpoint_every, resume=args.resume, best_path=args.out,
                   log=log_line)
    model = start or CharRNN(**settings)
    try:
        if start:
            model.fine_tune(names, valid, settings=settings, **options)
        else:
            model.fit(names, valid, **options)
    except TrainingInterrupted as stop:
        print(f"chemgen: interrupted at step {stop.step}; checkpoint saved to {stop.checkpoint} "
              f"(continue with --resume {stop.checkpoint}); best model so far in {args.out}", file=sys.stderr)
        model.save(args.out)
        return EXIT_INTERRUPTED
    model.save(args.out)
    print(f"saved {args.out}: {training_summary(model.training_info_)}", file=sys.stderr)
    return 0


def training_summary(info: dict[str, Any]) -> str:
    """What the saved model is: steps done and the best validation loss, or why there is none."""
    steps, best = info.get("steps_done"), info.get("best_valid_loss")
    if not steps:
        return "0 steps, so the model is untrained (its random initial parameters): give --steps"
    if best is not None:
        return f"{steps} steps, best validation loss {best:.4f} nats/char at step {info.get('best_step')}"
    why = "--valid-fraction 0" if info.get("n_train", 0) > 1 else "only one training name"
    return f"{steps} steps, no validation names ({why}; give --valid FILE), so the last step's model was kept"


# ---------------------------------------------------------------- generate / filter


def default_model_help() -> str:
    from chemgen.model.config import DEFAULT_MODEL

    return f"model file or shipped model name (default: the shipped {DEFAULT_MODEL} model)"


def add_model_option(p) -> None:
    p.add_argument("--model", help=default_model_help())


def add_output_options(p) -> None:
    from chemgen.filters import DEFAULT_FILTERS
    from chemgen.io.writers import IMAGE_FORMATS, RESULT_FORMATS

    p.add_argument("--filters", default=DEFAULT_FILTERS,
                   help=f"comma-separated filters, each optionally with options: "
                        f"'suffix,opsin,rdkit(mw=150:500,lipinski)'; 'none' for raw names (default {DEFAULT_FILTERS})")
    p.add_argument("--format", choices=list(RESULT_FORMATS), default=None,
                   help="output format (default: table on a terminal, csv otherwise)")
    p.add_argument("--output", "-o", help="write to this file instead of stdout (required for sdf)")
    p.add_argument("--image", help=f"also draw the top structures to this {' or '.join(IMAGE_FORMATS).upper()} file")
    p.add_argument("--offline", action="store_true", help="no network: the pubchem filter answers from its cache only")
    p.add_argument("--properties", metavar="LIST",
                   help="properties the rdkit filter computes: all, none, or a comma list of mw, clogp, tpsa, hbd, "
                        "hba, rotatable_bonds, qed, heavy_atoms, scaffold (default: what the output shows: all for "
                        "csv, jsonl, sdf and html; none for table and names); its ranges compute what they read")
    add_cluster_options(p)


def add_cluster_options(p) -> None:
    """--workers / --scheduler: run on a Dask cluster (needs chemgen[dask]); without either, in this process."""
    group = p.add_argument_group("cluster (needs chemgen[dask])")
    group.add_argument("--workers", type=positive_int, metavar="N",
                       help="start a local Dask cluster of N one-thread worker processes")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://head:8786")
    group.add_argument("--task-size", type=positive_int, default=None, metavar="NAMES",
                       help="names per task on a cluster (default 2000; the seed and this fix the candidates)")


def add_grammar_option(p) -> None:
    p.add_argument("--grammar", action=argparse.BooleanOptionalAction, default=True,
                   help="keep brackets balanced while sampling (default on; --no-grammar samples the model as it is)")


def add_generate(sub) -> None:
    from chemgen.filters import RANK_KEYS

    p = sub.add_parser("generate", help="sample names, filter them, rank them",
                       description="Sample candidate names from a model, keep those passing the filters, rank by log-likelihood.")
    add_model_option(p)
    p.add_argument("-n", type=non_negative_int, default=20, help="candidates wanted (default 20)")
    p.add_argument("--temperature", type=positive_float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--top-k", type=positive_int, help="sample only from the k likeliest characters")
    p.add_argument("--prefix", default="", help="start every name with this text")
    p.add_argument("--max-length", type=positive_int, default=200, help="longest name sampled (default 200)")
    p.add_argument("--seed", type=non_negative_int, help="random seed")
    p.add_argument("--rank-by", choices=list(RANK_KEYS), default="logp", help="ranking key (default logp)")
    p.add_argument("--max-tries", type=positive_int, help="cap on names sampled (default 20*n+1000)")
    add_grammar_option(p)
    p.add_argument("--threads", type=positive_int, default=1, metavar="N",
                   help="threads sharing each sampling batch (default 1; the same names up to rounding, faster on "
                        "an otherwise idle multi-core machine)")
    p.add_argument("--keep-duplicates", action="store_true", help="keep names that give the same structure")
    add_output_options(p)
    p.set_defaults(run=run_generate)


def add_filter(sub) -> None:
    p = sub.add_parser("filter", help="check a list of names with the filters",
                       description="Run the filter stage over names (one per line); every name is reported.")
    p.add_argument("names", help="names file, or - for stdin")
    p.add_argument("--model", help="also score names with this model (file or shipped name)")
    add_output_options(p)
    p.set_defaults(run=run_filter)


def run_generate(args) -> int:
    from chemgen.pipeline import generate

    prepare_output(args)
    if args.workers or args.scheduler:
        return run_generate_on_cluster(args)
    results = generate(n=args.n, model=args.model, filters=args.filters, temperature=args.temperature,
                       top_k=args.top_k, prefix=args.prefix, max_length=args.max_length, seed=args.seed,
                       rank_by=args.rank_by, max_tries=args.max_tries, dedupe=not args.keep_duplicates,
                       filter_options=filter_options(args), grammar=args.grammar, threads=args.threads)
    write_results(results, args)
    print(f"chemgen: {results.summary()}", file=sys.stderr)
    return report_shortfall(results, args)


def run_generate_on_cluster(args) -> int:
    from chemgen import distributed
    from chemgen.pipeline import model_of

    model = model_of(args.model)
    sampling = dict(temperature=args.temperature, top_k=args.top_k, prefix=args.prefix, max_length=args.max_length,
                    grammar=args.grammar, threads=args.threads)
    with distributed.cluster_client(args.workers, args.scheduler) as client:
        results = distributed.generate_on(client, args.n, model, args.filters, sampling, args.seed, args.rank_by,
                                          args.max_tries, not args.keep_duplicates, filter_options(args),
                                          args.task_size or distributed.TASK_SIZE)
    write_spooled(results, args, f"{results.summary()}; {results.tasks} tasks")
    return report_shortfall(results, args)


def write_spooled(results, args, summary: str) -> None:
    """Write a cluster run's results (read back from their spool file), then the summary line."""
    try:
        write_results(results, args)
    finally:
        results.close()
    print(f"chemgen: {summary}", file=sys.stderr)


def report_shortfall(results, args) -> int:
    """Say so when fewer candidates passed than were asked for (still a success)."""
    if len(results) < args.n:
        print(f"chemgen: only {len(results)} of {args.n} candidates passed within {results.tried} tries "
              f"(raise --max-tries or loosen --filters)", file=sys.stderr)
    return 0


def run_filter(args) -> int:
    """Check names chunk by chunk through one filter stage, writing rows as they come (bounded memory)."""
    from chemgen.filters import Results
    from chemgen.io import writers
    from chemgen.io.names import iter_names
    from chemgen.pipeline import check_stream

    prepare_output(args)
    if args.workers or args.scheduler:
        from chemgen import distributed
        from chemgen.pipeline import model_of

        with distributed.cluster_client(args.workers, args.scheduler) as client:
            results = distributed.check_on(client, (name for _, name in iter_names(args.names)), args.filters,
                                           model_of(args.model) if args.model else None, filter_options(args),
                                           args.task_size or distributed.TASK_SIZE)
        write_spooled(results, args, results.summary())
        return 0
    names = (name for _, name in iter_names(args.names))
    results = Results()  # only what the image needs: the first structures
    results.filter_stats = {}
    chunks = check_stream(names, filters=args.filters, model=args.model, filter_options=filter_options(args),
                          stats=results.filter_stats)
    written = writers.write_stream(_keep_for_image(chunks, results, args), args.output or sys.stdout, args.format)
    if args.format in writers.FILE_FORMATS:
        print(f"chemgen: wrote {written} structures to {args.output}", file=sys.stderr)
    if args.image:
        write_image(results, args.image)
    rates = ", ".join(f"{name} {s.passed}/{s.seen}" for name, s in results.filter_stats.items())
    print(f"chemgen: checked {results.tried}" + (f"; passed {rates}" if rates else ""), file=sys.stderr)
    return 0


def _keep_for_image(chunks, results, args):
    """Pass the chunks on, counting names and keeping the first structures the image shows."""
    for chunk in chunks:
        results.tried += len(chunk)
        if args.image:
            results.extend([c for c in chunk if c.smiles][: max(0, IMAGE_STRUCTURES - len(results))])
        yield chunk


PROPERTY_FREE_FORMATS = ("table", "names")  # formats that show no RDKit property


def filter_options(args) -> dict[str, Any]:
    """Options for every filter that takes them, from run-wide flags."""
    options: dict[str, Any] = {"offline": True} if args.offline else {}
    properties = properties_option(args)
    if properties is not None:
        options["properties"] = properties
    return options


def properties_option(args) -> Optional[tuple[str, ...]]:
    """The properties to compute: as --properties says, none for a format that shows none, else None (all)."""
    if getattr(args, "properties", None) is not None:
        from chemgen.chem.molecules import property_selection

        return property_selection(args.properties, "--properties")
    if getattr(args, "format", None) in PROPERTY_FREE_FORMATS:
        return ()
    return None


def prepare_output(args) -> None:
    """Validate output options and paths before any work."""
    from chemgen.io.atomic import check_writable
    from chemgen.io.writers import FILE_FORMATS, IMAGE_FORMATS

    if args.format is None and args.output and args.output.lower().endswith((".html", ".htm")):
        args.format = "html"  # a page asked for by its name
    if args.format is None:
        args.format = "table" if args.output is None and sys.stdout.isatty() else "csv"
    if args.format in FILE_FORMATS and not args.output:
        raise ChemgenError(f"--format {args.format} writes a file: give --output FILE.{args.format}")
    if args.image and not args.image.lower().endswith(tuple(f".{f}" for f in IMAGE_FORMATS)):
        raise ChemgenError(f"--image must end in .png or .svg, not {args.image!r}")
    for path, what in ((args.output, "--output"), (args.image, "--image")):
        if path:
            check_writable(path, what)
    properties_option(args)  # a bad --properties is reported before any work


def write_results(results, args) -> None:
    from chemgen.io import writers

    written = writers.write(results, args.output or sys.stdout, args.format)
    if args.format in writers.FILE_FORMATS:
        print(f"chemgen: wrote {written} structures to {args.output}", file=sys.stderr)
    if args.image:
        write_image(results, args.image)


def write_image(results, path: str) -> None:
    """Draw the top structures, or say plainly that there were none to draw."""
    from chemgen.io import writers

    drawn = writers.write(results, path)
    if drawn:
        print(f"chemgen: drew {drawn} structures to {path}", file=sys.stderr)
    else:
        print(f"chemgen: warning: no candidate has a structure, so no image was written to {path} "
              f"(structures come from the opsin or pubchem filter)", file=sys.stderr)


# ---------------------------------------------------------------- score


def add_score(sub) -> None:
    p = sub.add_parser("score", help="log-likelihood of each name under a model",
                       description="Print name, logp, logp_per_char, n_chars, error as tab-separated values.")
    add_model_option(p)
    p.add_argument("names", help="names file, or - for stdin")
    p.set_defaults(run=run_score)


def run_score(args) -> int:
    from chemgen.model.estimator import load
    from chemgen.io.names import iter_names, printable
    from chemgen.model.score import score_names

    model = load(args.model)
    names = (name for _, name in iter_names(args.names))  # opened now: a missing file is reported first
    out = sys.stdout
    out.write("name\tlogp\tlogp_per_char\tn_chars\terror\n")
    for record in score_names(model.learned_, names):
        logp = "" if record.logp is None else f"{record.logp:.6f}"
        per_char = "" if record.logp_per_char is None else f"{record.logp_per_char:.6f}"
        out.write(f"{printable(record.name, 10_000)}\t{logp}\t{per_char}\t{record.n_chars}\t{record.error}\n")
    return 0


# ---------------------------------------------------------------- filters / evaluate


def add_filters(sub) -> None:
    p = sub.add_parser("filters", help="list installed filters and whether each can run")
    p.set_defaults(run=run_filters)


def run_filters(args) -> int:
    from chemgen.filters import discover_filters, filter_status

    for name, entry in sorted(discover_filters().items()):
        print(f"{name:<10} {entry.source:<28} {filter_status(entry)}")
    return 0


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="validity, uniqueness, novelty and NLL of a model",
                       description="Measure a model: held-out NLL, validity, uniqueness, novelty, diversity.")
    add_model_option(p)
    p.add_argument("--samples", type=positive_int, default=10000, help="names to sample (default 10000)")
    p.add_argument("--reference", help="held-out names file (NLL, and the reference's own figures as the ceiling)")
    p.add_argument("--temperature", type=positive_float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--train", help="training names or molecules file (.smi, .csv, .tsv, .sdf): structural novelty "
                                   "against its structures (default: against the shipped known-compounds index)")
    p.add_argument("--json", dest="json_out", help="also write the figures as JSON to this file (- for stdout)")
    p.add_argument("--report", help="also write a self-contained HTML report (figures, property plots, structures, "
                                    "training curve) to this file; needs chemgen[notebook]")
    add_grammar_option(p)
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from chemgen.evaluate import evaluate_cli

    return evaluate_cli(args)


# ---------------------------------------------------------------- optimize


def add_optimize(sub) -> None:
    """``chemgen optimize``: one flag per OptimizeConfig field, plus the scoring spec, run file and outputs."""
    from chemgen.goal.config import OptimizeConfig

    p = sub.add_parser("optimize", help="steer a model toward a score (goal-directed generation)",
                       description="Goal-directed generation: a copy of a prior model learns to write names that "
                                   "score high (REINVENT's DAP rule); the filters are the scoring components.")
    p.add_argument("--score", help="scoring components, filter specs with optional [settings]: "
                                   "'opsin,rdkit,similar(to=lead.smi)', 'opsin,rdkit[value=qed]' "
                                   "(overrides the run file's [scoring])")
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
    from chemgen.goal.config import setting_names
    from chemgen.scoring import ScoringFunction, scoring_from_table

    settings, outputs, table = read_run_file(args.config) if args.config else ({}, {}, None)
    if args.resume:  # the checkpoint's settings and scoring, unless given again
        from chemgen.model import modelfile

        saved = modelfile.read_npz(args.resume)[1].get("optimize", {})
        settings = {k: v for k, v in saved.get("settings", {}).items() if k in setting_names()} | settings
        if table is None and saved.get("scoring"):
            table = {"aggregation": saved.get("aggregation", "geometric"), "component": saved["scoring"]}
    settings.update({k: v for k, v in vars(args).items() if k in setting_names() and v is not None})
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
    try:
        result = optimize(scoring, config=config, out=outputs["out"], log=outputs.get("log"),
                          summary=outputs.get("summary"), checkpoint=ckpt, resume=args.resume, progress=log_line)
    except OptimizeInterrupted as stop:
        print(f"chemgen: interrupted at step {stop.step}; checkpoint saved to {stop.checkpoint} "
              f"(continue with --resume {stop.checkpoint}); agent so far in {outputs['out']}", file=sys.stderr)
        return EXIT_INTERRUPTED
    best = result.best[0] if result.best else None
    best_text = f"best score {best['score']:.3f} ({best['smiles'] or best['name']})" if best else "nothing scored"
    print(f"chemgen: {result.steps_done} steps, {result.names_scored} names scored in {result.seconds:.0f} s; "
          f"{best_text}; agent saved to {outputs['out']}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- report


def add_report(sub) -> None:
    p = sub.add_parser("report", help="a model's card and training curve as an HTML page",
                       description="Write a self-contained HTML page with a model's card and training curve.")
    p.add_argument("model", nargs="?", help=default_model_help())
    p.add_argument("--output", "-o", required=True, help="HTML file to write")
    p.set_defaults(run=run_report)


def run_report(args) -> int:
    from chemgen.io.atomic import check_writable
    from chemgen.model.estimator import CharRNN, resolve_model
    from chemgen.report import check_report_dependencies, write_model_report

    check_writable(args.output, "--output")
    check_report_dependencies()
    path = resolve_model(args.model)
    write_model_report(args.output, CharRNN.load(path), str(path))
    print(f"chemgen: wrote the model report to {args.output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- main


def build_parser() -> ArgumentParser:
    from chemgen import __version__

    parser = ArgumentParser(prog="chemgen", description="Generate candidate chemical compound names and check them.")
    parser.add_argument("--version", action="version", version=f"chemgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for add in (add_train, add_generate, add_score, add_filter, add_evaluate, add_filters, add_optimize,
                add_report):
        add(sub)
    return parser


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """chemgen's own warnings as one line on stderr; others as Python shows them."""
    if issubclass(category, ChemgenWarning):
        log_line(f"chemgen: warning: {message}")
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv: Optional[Sequence[str]] = None) -> int:
    global _python_show_warning
    _python_show_warning, warnings.showwarning = warnings.showwarning, show_warning
    try:
        return run_command(argv)
    finally:
        warnings.showwarning = _python_show_warning


def run_command(argv: Optional[Sequence[str]]) -> int:
    """Parse the command line and run it; errors become one line and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ChemgenError as exc:
        print(f"chemgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chemgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"chemgen: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: still one line, with the way to the traceback
        if os.environ.get("CHEMGEN_DEBUG"):
            raise
        print(f"chemgen: internal error: {type(exc).__name__}: {exc} (set CHEMGEN_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
