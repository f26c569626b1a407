"""``chemgen train``: train a model on names or molecules, or fine-tune one (``--init``)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from chemgen.cli.common import (
    EXIT_INTERRUPTED, add_config_flags, checkpoint_path, given_settings, log_line, non_negative_int, positive_int,
)


def add_train(sub) -> None:
    from chemgen.chem.analogs import AnalogConfig
    from chemgen.chem.records import INPUT_FORMATS
    from chemgen.model.config import ModelConfig, TrainConfig

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
    add_config_flags(p, ModelConfig)
    add_config_flags(p, TrainConfig)
    add_config_flags(p, AnalogConfig)
    p.add_argument("--checkpoint", help="checkpoint file (default: OUT with .ckpt.npz)")
    p.add_argument("--checkpoint-every", type=non_negative_int, default=500, help="steps between checkpoints (0: only at the end)")
    p.add_argument("--resume", help="continue from this checkpoint (same names; settings from it unless given)")
    group = p.add_argument_group("naming a corpus of molecules (needs chemgen[dask] for a cluster)")
    group.add_argument("--naming-processes", type=positive_int, metavar="N",
                       help="processes naming molecules on this machine (default: every core)")
    group.add_argument("--workers", type=positive_int, metavar="N",
                       help="name on a local Dask cluster of N one-thread worker processes instead")
    group.add_argument("--scheduler", metavar="ADDRESS", help="name on an existing Dask cluster, e.g. tcp://head:8786")
    p.set_defaults(run=run_train)


def fine_tune_flags() -> str:
    """The fine-tuning defaults as flags: '--lr 0.001, --epochs 10, ...'."""
    from dataclasses import fields

    from chemgen.chem.analogs import FINE_TUNE_ANALOGS
    from chemgen.model.config import FINE_TUNE_DEFAULTS, TrainConfig

    flags = {f.name: f.metadata["flag"] for f in fields(TrainConfig)}
    shown = [f"{flags[key]} {FINE_TUNE_DEFAULTS[key]:g}" for key in ("learning_rate", "epochs", "batch_size",
                                                                      "valid_fraction")]
    return ", ".join(shown[:2] + [f"--analogs {FINE_TUNE_ANALOGS}"] + shown[2:])


def read_input_names(args, fine_tuning: bool) -> list[str]:
    """Names from a names file; or molecules named and verified: a series (fine-tuning: each left-out record
    reported) or a corpus (in parallel, cached next to the output, drops counted by reason)."""
    from chemgen.chem.records import input_format as format_of
    from chemgen.chem.series import load_series
    from chemgen.io.names import read_training_names

    path = args.names
    if format_of(path, args.input_format) == "txt":
        return read_training_names(path)
    if not fine_tuning:
        return read_corpus(args)
    series = load_series(path, args.input_format)
    for problem in series.problems:
        print(f"chemgen: {path}: {problem}; left out", file=sys.stderr)
    print(f"chemgen: {path}: {series.summary()}", file=sys.stderr)
    return series.names


def names_cache(out: str) -> Path:
    """Where a corpus's names are kept: beside the model file, ``prior.npz`` -> ``prior.names/``."""
    path = Path(out)
    return path.with_name((path.name[:-4] if path.name.endswith(".npz") else path.name) + ".names")


def read_corpus(args) -> list[str]:
    """A corpus of molecules named in parallel (or on a Dask cluster) into the names cache; the summary on stderr."""
    from chemgen.chem.corpus import name_corpus
    from chemgen.chem.records import input_format, read_records
    from chemgen.errors import ConfigError
    from chemgen.generation.cluster import cluster_client

    smiles, names, unreadable = [], [], 0
    for record in read_records(args.names, input_format(args.names, args.input_format)):
        if record.problem:
            unreadable += 1
        elif record.smiles is not None:
            smiles.append(record.smiles)
        else:
            names.append(record.name)
    if smiles:
        with cluster_client(args.workers, args.scheduler) as client:
            corpus = name_corpus(smiles, names_cache(args.out), workers=args.naming_processes, client=client)
        given = set(names)
        names += [n for n in corpus.names if n not in given]
        unreadable_text = f"; {unreadable:,} records unreadable" if unreadable else ""
        print(f"chemgen: {args.names}: {corpus.summary()}{unreadable_text}", file=sys.stderr)
    if not names:
        raise ConfigError(f"{args.names}: no usable molecules or names ({len(smiles) + unreadable:,} records read)")
    return names


def run_train(args) -> int:
    from chemgen.chem.analogs import AnalogConfig, with_analogs
    from chemgen.io.atomic import check_distinct, check_writable
    from chemgen.io.names import read_training_names
    from chemgen.model import modelfile
    from chemgen.model.config import ModelConfig, TrainConfig, resumed
    from chemgen.model.estimator import CharRNN, load, resolve_model
    from chemgen.model.train import TrainingInterrupted

    ckpt = args.checkpoint or checkpoint_path(args.out)
    check_writable(args.out, "model file")
    check_writable(ckpt, "checkpoint")
    check_distinct({"names file": args.names, "--valid": args.valid,
                    "--init": resolve_model(args.init) if args.init else None},
                   {"--out": args.out, "--checkpoint": ckpt})
    check_distinct({"--resume": args.resume}, {"--out": args.out})  # the checkpoint resumed from is rewritten
    start = load(args.init) if args.init else None
    given = given_settings(args, ModelConfig) | given_settings(args, TrainConfig)
    settings = resumed(modelfile.read_npz(args.resume)[1].get("settings", {}), given) if args.resume else given
    analogs = AnalogConfig(**given_settings(args, AnalogConfig)).per_name(fine_tuning=start is not None)
    names = with_analogs(read_input_names(args, fine_tuning=start is not None), analogs,
                         settings.get("random_state"), log_line)
    valid = read_training_names(args.valid) if args.valid else None
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
