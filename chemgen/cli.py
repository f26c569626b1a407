"""The ``chemgen`` command: train, generate, score, filter, evaluate, filters.

Errors are one line on stderr with exit status 2, never a traceback; Ctrl-C
exits 130 (training saves a checkpoint first). Progress bars show on a
terminal only.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from chemgen.errors import ChemgenError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def log_line(message: str) -> None:
    """A progress line on stderr that does not tear a progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


# ---------------------------------------------------------------- train

TRAIN_FLAGS = {  # flag dest -> CharRNN setting
    "cell": "cell", "hidden": "hidden_size", "layers": "num_layers", "optimizer": "optimizer",
    "lr": "learning_rate", "batch_size": "batch_size", "steps": "steps", "clip": "clip",
    "clip_value": "clip_value", "dropout": "dropout", "short_below": "short_below", "short_weight": "short_weight",
    "name_floor": "name_floor", "valid_fraction": "valid_fraction", "eval_every": "eval_every",
    "print": "n_print", "dtype": "dtype", "seed": "random_state", "lr_decay": "lr_decay",
    "embed": "embed", "init": "init", "warmup": "warmup", "decay_share": "decay_share", "threads": "threads",
}


def add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model on a names file", description="Train a char-RNN on names (one per line).")
    p.add_argument("names", help="training names, one per line (- for stdin)")
    p.add_argument("--out", required=True, help="model file to write (the best model by validation loss)")
    p.add_argument("--valid", help="validation names file (default: hold out --valid-fraction of the names)")
    p.add_argument("--cell", choices=["rnn", "gru", "lstm"], help="recurrent cell (default gru; rnn is the seed's)")
    p.add_argument("--hidden", type=positive_int, help="hidden units per layer (default 256)")
    p.add_argument("--layers", type=positive_int, help="stacked recurrent layers (default 1)")
    p.add_argument("--optimizer", choices=["adam", "sgd"], help="optimizer (default adam; sgd is the seed's)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default 3e-3)")
    p.add_argument("--lr-decay", dest="lr_decay", action=argparse.BooleanOptionalAction, default=None,
                   help="cosine decay of the learning rate to 10%% over the last --decay-share of the steps "
                        "(default on)")
    p.add_argument("--batch-size", type=positive_int, help="names per minibatch (default 64)")
    p.add_argument("--steps", type=non_negative_int, help="optimizer steps (default 3000)")
    p.add_argument("--clip", choices=["norm", "value"], help="clip by global norm or by value (default norm)")
    p.add_argument("--clip-value", type=positive_float, help="clipping threshold (default 5)")
    p.add_argument("--dropout", type=float, help="share of layer outputs dropped while training, in [0, 1) (default 0)")
    p.add_argument("--short-below", type=non_negative_int, metavar="CHARS",
                   help="draw names shorter than this less often (default 0: every name alike)")
    p.add_argument("--short-weight", type=positive_float, metavar="W",
                   help="their chance of being drawn relative to the others, in (0, 1] (default 1)")
    p.add_argument("--name-floor", type=float, metavar="NATS",
                   help="a training name whose loss is already below NATS gives no gradient, so no name is "
                        "learnt by heart beyond a chance of e^-NATS (default 0: off; 12 for the shipped model)")
    p.add_argument("--valid-fraction", type=float, help="held-out share when --valid is not given (default 0.05)")
    p.add_argument("--eval-every", type=positive_int, help="steps between validation and log lines (default 200)")
    p.add_argument("--print", type=non_negative_int, help="names sampled at each evaluation (default 5)")
    p.add_argument("--dtype", choices=["float32", "float64"], help="float type (default float32)")
    p.add_argument("--seed", type=int, help="random seed: same seed, same model")
    # input embedding, initialisation, warm-up and when decay starts (the seed's network: --embed 0 --init seed)
    p.add_argument("--embed", type=non_negative_int, metavar="D",
                   help="width of a learned character embedding before the first layer (default 128; 0: one-hot input)")
    p.add_argument("--init", metavar="SCHEME",
                   help="how weights and biases start: chemgen (default), torch (PyTorch's defaults) or seed; "
                        "KEY=VALUE changes may follow, e.g. chemgen,recurrent=orthogonal")
    p.add_argument("--warmup", type=non_negative_int, metavar="STEPS",
                   help="steps of linear learning-rate warm-up (default 0)")
    p.add_argument("--decay-share", type=positive_float, metavar="SHARE",
                   help="share of the steps, at the end, over which --lr-decay acts, in (0, 1] (default 0.2; "
                        "1: the whole run, which slows short runs)")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="threads sharing each minibatch, a part each (default 1; results depend slightly on N)")
    p.add_argument("--checkpoint", help="checkpoint file (default: OUT with .ckpt.npz)")
    p.add_argument("--checkpoint-every", type=non_negative_int, default=500, help="steps between checkpoints (0: only at the end)")
    p.add_argument("--resume", help="continue from this checkpoint (same names; settings from it unless given)")
    p.set_defaults(run=run_train)


def checkpoint_path(out: str) -> str:
    base = out[:-4] if out.endswith(".npz") else out
    return base + ".ckpt.npz"


def run_train(args) -> int:
    from chemgen import modelfile
    from chemgen.model import CharRNN, stored_settings
    from chemgen.names_io import read_training_names
    from chemgen.train import TrainingInterrupted

    names = read_training_names(args.names)
    valid = read_training_names(args.valid) if args.valid else None
    settings = {}
    if args.resume:
        settings = stored_settings(modelfile.read_npz(args.resume)[1])
    settings.update({TRAIN_FLAGS[k]: v for k, v in vars(args).items() if k in TRAIN_FLAGS and v is not None})
    model = CharRNN(**settings)
    ckpt = args.checkpoint or checkpoint_path(args.out)
    try:
        model.fit(names, valid, checkpoint=ckpt, checkpoint_every=args.checkpoint_every, resume=args.resume,
                  best_path=args.out, log=log_line)
    except TrainingInterrupted as stop:
        print(f"chemgen: interrupted at step {stop.step}; checkpoint saved to {stop.checkpoint} "
              f"(continue with --resume {stop.checkpoint}); best model so far in {args.out}", file=sys.stderr)
        model.save(args.out)
        return EXIT_INTERRUPTED
    model.save(args.out)
    info = model.training_info_
    print(f"saved {args.out}: {info.get('steps_done')} steps, best validation loss "
          f"{info.get('best_valid_loss')} nats/char at step {info.get('best_step')}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- generate / filter


def add_model_option(p) -> None:
    p.add_argument("--model", help="model file or shipped model name (default: the shipped systematic model)")


def add_output_options(p, default_filters: str) -> None:
    p.add_argument("--filters", default=default_filters,
                   help=f"comma-separated filters, each optionally with options: "
                        f"'suffix,opsin,rdkit(mw=150:500,lipinski)'; 'none' for raw names (default {default_filters})")
    p.add_argument("--format", choices=["table", "csv", "jsonl", "sdf", "names"], default=None,
                   help="output format (default: table on a terminal, csv otherwise)")
    p.add_argument("--output", "-o", help="write to this file instead of stdout (required for sdf)")
    p.add_argument("--image", help="also draw the top structures to this PNG or SVG file")
    p.add_argument("--offline", action="store_true", help="no network: the pubchem filter answers from its cache only")


def add_generate(sub) -> None:
    p = sub.add_parser("generate", help="sample names, filter them, rank them",
                       description="Sample candidate names from a model, keep those passing the filters, rank by log-likelihood.")
    add_model_option(p)
    p.add_argument("-n", type=non_negative_int, default=20, help="candidates wanted (default 20)")
    p.add_argument("--temperature", type=positive_float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--top-k", type=positive_int, help="sample only from the k likeliest characters")
    p.add_argument("--prefix", default="", help="start every name with this text")
    p.add_argument("--max-length", type=positive_int, default=200, help="longest name sampled (default 200)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--rank-by", choices=["logp", "logp-per-char"], default="logp", help="ranking key (default logp)")
    p.add_argument("--max-tries", type=positive_int, help="cap on names sampled (default 20*n+1000)")
    p.add_argument("--keep-duplicates", action="store_true", help="keep names that give the same structure")
    add_output_options(p, "opsin,rdkit")
    p.set_defaults(run=run_generate)


def add_filter(sub) -> None:
    p = sub.add_parser("filter", help="check a list of names with the filters",
                       description="Run the filter stage over names (one per line); every name is reported.")
    p.add_argument("names", help="names file, or - for stdin")
    p.add_argument("--model", help="also score names with this model (file or shipped name)")
    add_output_options(p, "opsin,rdkit")
    p.set_defaults(run=run_filter)


def run_generate(args) -> int:
    from chemgen.pipeline import generate

    prepare_output(args)
    results = generate(n=args.n, model=args.model, filters=args.filters, temperature=args.temperature,
                       top_k=args.top_k, prefix=args.prefix, max_length=args.max_length, seed=args.seed,
                       rank_by=args.rank_by, max_tries=args.max_tries, dedupe=not args.keep_duplicates)
    write_results(results, args)
    print(f"chemgen: {results.summary()}", file=sys.stderr)
    if len(results) < args.n:
        print(f"chemgen: only {len(results)} of {args.n} candidates passed within {results.tried} tries "
              f"(raise --max-tries or loosen --filters)", file=sys.stderr)
    return 0


def run_filter(args) -> int:
    from chemgen.names_io import iter_names
    from chemgen.pipeline import check

    prepare_output(args)
    names = [name for _, name in iter_names(args.names)]
    results = check(names, filters=args.filters, model=args.model)
    write_results(results, args)
    print(f"chemgen: {results.summary()}", file=sys.stderr)
    return 0


def prepare_output(args) -> None:
    """Validate output options before any work, and apply --offline."""
    if args.format is None:
        args.format = "table" if args.output is None and sys.stdout.isatty() else "csv"
    if args.format == "sdf" and not args.output:
        raise ChemgenError("--format sdf writes a file: give --output FILE.sdf")
    if args.image and not args.image.lower().endswith((".png", ".svg")):
        raise ChemgenError(f"--image must end in .png or .svg, not {args.image!r}")
    if args.offline:
        os.environ["CHEMGEN_OFFLINE"] = "1"


def write_results(results, args) -> None:
    from chemgen import export

    if args.format == "sdf":
        written = export.write_sdf(results, args.output)
        print(f"chemgen: wrote {written} structures to {args.output}", file=sys.stderr)
    elif args.output:
        with export.atomic_text(args.output) as handle:
            export.FORMATS[args.format](results, handle)
    else:
        export.FORMATS[args.format](results, sys.stdout)
    if args.image:
        drawn = export.write_grid_image(results, args.image)
        print(f"chemgen: drew {drawn} structures to {args.image}", file=sys.stderr)


# ---------------------------------------------------------------- score


def add_score(sub) -> None:
    p = sub.add_parser("score", help="log-likelihood of each name under a model",
                       description="Print name, logp, logp_per_char, n_chars, error as tab-separated values.")
    add_model_option(p)
    p.add_argument("names", help="names file, or - for stdin")
    p.set_defaults(run=run_score)


def run_score(args) -> int:
    from chemgen.model import load
    from chemgen.names_io import iter_names, printable
    from chemgen.score import score_names

    model = load(args.model)
    out = sys.stdout
    out.write("name\tlogp\tlogp_per_char\tn_chars\terror\n")
    for record in score_names(model, (name for _, name in iter_names(args.names))):
        logp = "" if record.logp is None else f"{record.logp:.6f}"
        per_char = "" if record.logp_per_char is None else f"{record.logp_per_char:.6f}"
        out.write(f"{printable(record.name, 10_000)}\t{logp}\t{per_char}\t{record.n_chars}\t{record.error}\n")
    return 0


# ---------------------------------------------------------------- filters / evaluate


def add_filters(sub) -> None:
    p = sub.add_parser("filters", help="list installed filters and whether each can run")
    p.set_defaults(run=run_filters)


def run_filters(args) -> int:
    from chemgen.filters import discover_filters

    installed = discover_filters()
    for name, entry in sorted(installed.items()):
        status = f"cannot load: {entry.load_error}" if entry.load_error else _availability(name, installed)
        print(f"{name:<10} {entry.source:<28} {status}")
    return 0


def _availability(name: str, installed) -> str:
    from chemgen.filters import build_filter

    try:
        instance = build_filter(name, {}, installed)
    except Exception as exc:  # a plugin's constructor failing is a status to show, not a crash
        return f"cannot start: {exc}"
    available = getattr(instance, "available", None)
    ok, why = available() if callable(available) else (True, "")
    close = getattr(instance, "close", None)
    if callable(close):
        close()
    return "ready" if ok else f"unavailable: {why}"


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="validity, uniqueness, novelty and NLL of a model",
                       description="Measure a model: held-out NLL, validity, uniqueness, novelty, diversity.")
    add_model_option(p)
    p.add_argument("--samples", type=positive_int, default=10000, help="names to sample (default 10000)")
    p.add_argument("--reference", help="held-out names file (NLL, and the reference's own figures as the ceiling)")
    p.add_argument("--temperature", type=positive_float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--train", help="training names file: structural novelty against its structures "
                                   "(default: against the shipped known-compounds index)")
    p.add_argument("--json", dest="json_out", help="also write the figures as JSON to this file (- for stdout)")
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from chemgen.evaluate import evaluate_cli

    return evaluate_cli(args)


# ---------------------------------------------------------------- main


def build_parser() -> ArgumentParser:
    from chemgen import __version__

    parser = ArgumentParser(prog="chemgen", description="Generate candidate chemical compound names and check them.")
    parser.add_argument("--version", action="version", version=f"chemgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for add in (add_train, add_generate, add_score, add_filter, add_evaluate, add_filters):
        add(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
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
