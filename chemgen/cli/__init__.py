"""The ``chemgen`` command: train, generate, score, filter, evaluate, filters, optimize, report.

Errors are one line on stderr with exit status 2, never a traceback; Ctrl-C
exits 130 (training saves a checkpoint first). Progress bars show on a
terminal only. Each command group has its module here; its flags derive from
the settings dataclasses (chemgen.model.config, chemgen.goal.config).
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Optional, Sequence

from chemgen.cli import evaluate, generate, optimize, train
from chemgen.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, ArgumentParser, log_line
from chemgen.errors import ChemgenError, ChemgenWarning

COMMANDS = (train.add_train, generate.add_generate, generate.add_score, generate.add_filter, evaluate.add_evaluate,
            generate.add_filters, optimize.add_optimize, evaluate.add_report)


def build_parser() -> ArgumentParser:
    from chemgen.version import __version__

    parser = ArgumentParser(prog="chemgen", description="Generate candidate chemical compound names and check them.")
    parser.add_argument("--version", action="version", version=f"chemgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for add in COMMANDS:
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
