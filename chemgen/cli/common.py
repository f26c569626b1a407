"""What every command shares: the one-line-error parser, flag types, flags derived from the settings
dataclasses, and the run-wide filter options."""
from __future__ import annotations

import argparse
import sys
import typing
from typing import Any, Optional, Sequence

from chemgen.io.names import quoted

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
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be positive and finite, not {text}")
    return value


def log_line(message: str) -> None:
    """A progress line on stderr that does not tear a progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def config_flag_type(name: str, field_type: Any, check) -> Any:
    """An argparse type for one TrainConfig field: parse, then run the field's own check."""
    def convert(text: str) -> Any:
        try:
            value = int(text) if field_type in (int, Optional[int]) else float(text) if field_type is float else text
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} needs a number, not {quoted(text)}") from None
        message = check(name, value)
        if message:
            raise argparse.ArgumentTypeError(message)
        return value
    return convert


def add_config_flags(p, config_class: Any, only: Optional[Sequence[str]] = None) -> None:
    """One flag per field of a settings dataclass (or the fields named in ``only``): name, type, choices, help and
    default all come from the field."""
    from dataclasses import fields

    hints = typing.get_type_hints(config_class)
    for f in fields(config_class):
        if only is not None and f.name not in only:
            continue
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


def checkpoint_path(out: str) -> str:
    base = out[:-4] if out.endswith(".npz") else out
    return base + ".ckpt.npz"


def default_model_help() -> str:
    from chemgen.model.config import DEFAULT_MODEL

    return f"model file or shipped model name (default: the shipped {DEFAULT_MODEL} model)"


def add_model_option(p) -> None:
    p.add_argument("--model", help=default_model_help())


def add_cluster_options(p) -> None:
    """--workers / --scheduler: run on a Dask cluster (needs chemgen[dask]); without either, in this process."""
    group = p.add_argument_group("cluster (needs chemgen[dask])")
    group.add_argument("--workers", type=positive_int, metavar="N",
                       help="start a local Dask cluster of N one-thread worker processes")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on an existing Dask cluster, e.g. tcp://head:8786")
    group.add_argument("--task-size", type=positive_int, default=None, metavar="NAMES",
                       help="names per task on a cluster (default 2000; the seed and this fix the candidates)")


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




def given_settings(args, config_class: Any) -> dict[str, Any]:
    """The settings of ``config_class`` given on the command line (flags left out are not in the dict)."""
    names = config_class.setting_names()
    return {k: v for k, v in vars(args).items() if k in names and v is not None}
