"""``chemgen generate``, ``filter``, ``score`` and ``filters``: names from a model or a file, through the filters."""
from __future__ import annotations

import sys

from chemgen.cli.common import (
    add_cluster_options,
    add_config_flags,
    add_model_option,
    filter_options,
    given_settings,
    non_negative_int,
    positive_int,
    properties_option,
)
from chemgen.errors import ChemgenError
from chemgen.io.names import quoted

IMAGE_STRUCTURES = 24  # structures drawn by --image


def add_output_options(p) -> None:
    from chemgen.filters import DEFAULT_FILTERS
    from chemgen.output.writers import IMAGE_FORMATS, RESULT_FORMATS

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


def add_generate(sub) -> None:
    from chemgen.generation.collector import RANK_KEYS
    from chemgen.model.config import SamplingConfig

    p = sub.add_parser("generate", help="sample names, filter them, rank them",
                       description="Sample candidate names from a model, keep those passing the filters, rank by log-likelihood.")
    add_model_option(p)
    p.add_argument("-n", type=non_negative_int, default=20, help="candidates wanted (default 20)")
    add_config_flags(p, SamplingConfig)
    p.add_argument("--seed", type=non_negative_int, help="random seed")
    p.add_argument("--rank-by", choices=list(RANK_KEYS), default="logp", help="ranking key (default logp)")
    p.add_argument("--max-tries", type=positive_int, help="cap on names sampled (default 20*n+1000)")
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
    from chemgen.generation.cluster import cluster_client
    from chemgen.generation.pipeline import generate
    from chemgen.model.config import SamplingConfig
    from chemgen.model.estimator import resolve_model

    prepare_output(args, {"--model": resolve_model(args.model)})
    with cluster_client(args.workers, args.scheduler) as client:
        results = generate(n=args.n, model=args.model, filters=args.filters, seed=args.seed, rank_by=args.rank_by,
                           max_tries=args.max_tries, dedupe=not args.keep_duplicates,
                           filter_options=filter_options(args), client=client, task_size=args.task_size,
                           spool=True, **given_settings(args, SamplingConfig))
    tasks = f"; {results.tasks} tasks" if client is not None else ""
    write_spooled(results, args, f"{results.summary()}{tasks}")
    return report_shortfall(results, args)


def write_spooled(results, args, summary: str) -> None:
    """Write a run's results (a cluster run's are read back from their spool file), then the summary line."""
    try:
        write_results(results, args)
    finally:
        if hasattr(results, "close"):
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
    from chemgen.generation.collector import Results
    from chemgen.generation.pipeline import check_stream
    from chemgen.io.names import iter_names
    from chemgen.model.estimator import resolve_model
    from chemgen.output import writers

    prepare_output(args, {"names file": args.names, "--model": resolve_model(args.model) if args.model else None})
    if args.workers or args.scheduler:
        from chemgen.generation.cluster import cluster_client
        from chemgen.generation.pipeline import check

        with cluster_client(args.workers, args.scheduler) as client:
            results = check((name for _, name in iter_names(args.names)), args.filters, args.model,
                            filter_options(args), client, args.task_size, spool=True)
        write_spooled(results, args, results.summary())
        return 0
    names = (name for _, name in iter_names(args.names))
    results = Results()  # only what the image needs: the first structures
    results.filter_stats = {}
    chunks = check_stream(names, filters=args.filters, model=args.model, filter_options=filter_options(args),
                          stats=results.filter_stats)
    written = writers.write_stream(_keep_for_image(chunks, results, args), args.output or sys.stdout, args.format)
    report_written(written, results.tried, args)
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


def prepare_output(args, inputs: dict) -> None:
    """Validate output options and paths before any work; no output may be an input (``inputs``: flag -> path)."""
    from chemgen.io.atomic import check_distinct, check_writable
    from chemgen.output.writers import FILE_FORMATS, IMAGE_FORMATS

    if args.format is None and args.output and args.output.lower().endswith((".html", ".htm")):
        args.format = "html"  # a page asked for by its name
    if args.format is None:
        args.format = "table" if args.output is None and sys.stdout.isatty() else "csv"
    if args.format in FILE_FORMATS and not args.output:
        raise ChemgenError(f"--format {args.format} writes a file: give --output FILE.{args.format}")
    if args.image and not args.image.lower().endswith(tuple(f".{f}" for f in IMAGE_FORMATS)):
        raise ChemgenError(f"--image must end in .png or .svg, not {quoted(args.image)}")
    for path, what in ((args.output, "--output"), (args.image, "--image")):
        if path:
            check_writable(path, what)
    check_distinct(inputs, {"--output": args.output, "--image": args.image}, stdout=not args.output)
    properties_option(args)  # a bad --properties is reported before any work


def write_results(results, args) -> None:
    from chemgen.output import writers

    written = writers.write(results, args.output or sys.stdout, args.format)
    report_written(written, len(results), args)
    if args.image:
        write_image(results, args.image)


def report_written(written: int, total: int, args) -> None:
    """What a file format wrote: structures for SDF (saying how many had none), rows for a page."""
    if args.format == "sdf":
        left = f" ({total - written} without a structure left out)" if total > written else ""
        print(f"chemgen: wrote {written} structures to {args.output}{left}", file=sys.stderr)
    elif args.output and args.format == "html":
        print(f"chemgen: wrote {written} rows to {args.output}", file=sys.stderr)


def write_image(results, path: str) -> None:
    """Draw the top structures, or say plainly that there were none to draw."""
    from chemgen.output import writers

    drawn = writers.write(results, path)
    if drawn:
        print(f"chemgen: drew {drawn} structures to {path}", file=sys.stderr)
    else:
        print(f"chemgen: warning: no candidate has a structure, so no image was written to {path} "
              f"(structures come from the opsin or pubchem filter)", file=sys.stderr)


def add_score(sub) -> None:
    p = sub.add_parser("score", help="log-likelihood of each name under a model",
                       description="Print name, logp, logp_per_char, n_chars, error as tab-separated values.")
    add_model_option(p)
    p.add_argument("names", help="names file, or - for stdin")
    p.set_defaults(run=run_score)


def run_score(args) -> int:
    from chemgen.io.atomic import check_distinct
    from chemgen.io.names import iter_names, printable
    from chemgen.model.estimator import load, resolve_model
    from chemgen.model.score import score_names

    check_distinct({"names file": args.names, "--model": resolve_model(args.model)}, {}, stdout=True)
    model = load(args.model)
    names = (name for _, name in iter_names(args.names))  # opened now: a missing file is reported first
    out = sys.stdout
    out.write("name\tlogp\tlogp_per_char\tn_chars\terror\n")
    for record in score_names(model.learned_, names):
        logp = "" if record.logp is None else f"{record.logp:.6f}"
        per_char = "" if record.logp_per_char is None else f"{record.logp_per_char:.6f}"
        out.write(f"{printable(record.name, 10_000)}\t{logp}\t{per_char}\t{record.n_chars}\t{record.error}\n")
    return 0


def add_filters(sub) -> None:
    p = sub.add_parser("filters", help="list installed filters and whether each can run")
    p.set_defaults(run=run_filters)


def run_filters(args) -> int:
    from chemgen.filters import discover_filters, filter_status

    entries = sorted(discover_filters().items())
    name_width = max((len(name) for name, _ in entries), default=0)
    source_width = max((len(entry.source) for _, entry in entries), default=0)
    for name, entry in entries:
        print(f"{name:<{name_width}}  {entry.source:<{source_width}}  {filter_status(entry)}")
    return 0
