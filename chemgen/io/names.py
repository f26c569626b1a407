"""Reading names files: one name per line, ``-`` for standard input, ``.gz`` read through gzip, streamed.

One rule for every reader (train, score, filter, evaluate): a line that is not
UTF-8 text is an error naming the file and the line; a byte-order mark at the
start is dropped; a missing file, a directory or a closed standard input is
reported before anything is read.
"""
from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from chemgen.errors import ConfigError

BOM = "\ufeff"  # a byte-order mark some editors write first: not part of the first name


def not_a_file(path: Any) -> str:
    """Why ``path`` is no regular file to read ("does not exist", "is a directory, not a file", "is a
    character device, not a file"...), or "" when it is one."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    kinds = ((stat.S_ISREG, ""), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"is {kind}, not a file" if kind else ""


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        stdin = sys.stdin
        if stdin is None or getattr(stdin, "buffer", None) is None or stdin.closed:
            raise ConfigError("cannot read names from standard input: it is closed")
        return stdin.buffer
    if Path(path).is_dir():
        raise ConfigError(f"names file {path!r} is a directory")
    if not Path(path).exists():
        raise ConfigError(f"names file {path!r} does not exist")
    try:
        if path.endswith(".gz"):  # the shipped corpora's large splits are gzipped
            import gzip

            return gzip.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise ConfigError(f"cannot read names file {path!r}: {exc.strerror or exc}") from None


def iter_names(path: str, errors: str = "strict") -> Iterator[tuple[int, str]]:
    """(line number, name) for each non-blank line, surrounding white space stripped.

    The file is opened now (a missing file is an error before the first name);
    a line that is not UTF-8 is a ConfigError naming the line, unless errors="replace"
    (a molecule file's record then fails on its own).
    """
    return _lines(path, _open_binary(path), errors)


def _lines(path: str, handle: IO[bytes], errors: str = "strict") -> Iterator[tuple[int, str]]:
    where = "standard input" if path == "-" else path
    try:
        for line_no, raw in enumerate(handle, start=1):
            try:
                name = raw.decode("utf-8", errors).removeprefix(BOM if line_no == 1 else "").strip()
            except UnicodeDecodeError:
                raise ConfigError(f"{where}: line {line_no} is not valid UTF-8 text") from None
            if name:
                yield line_no, name
    except (OSError, EOFError) as exc:  # gzip's BadGzipFile is an OSError
        raise ConfigError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        if path != "-":
            handle.close()


def control_character(name: str) -> str:
    """The first control character (tab, escape, ...) in name, or ""."""
    return next((c for c in name if unicodedata.category(c) == "Cc"), "")


def validate_names(names: Sequence[str], what: str = "training names") -> list[str]:
    """Names as a list of non-empty strings without newlines; ConfigError otherwise."""
    if isinstance(names, str):
        raise ConfigError(f"{what} must be a list of names, not one string")
    try:
        out = list(names)
    except TypeError:
        raise ConfigError(f"{what} must be a list of names, not {type(names).__name__}") from None
    for index, name in enumerate(out):
        if not isinstance(name, str) or not name or "\n" in name:
            raise ConfigError(f"{what}: item {index} ({quoted(name)}) is not a non-empty one-line name")
        if control_character(name):
            raise ConfigError(f"{what}: item {index} ({quoted(name)}) holds the control character "
                              f"{quoted(control_character(name))}: names are one line of printable text")
    if not out:
        raise ConfigError(f"{what}: no names given")
    return out


def read_training_names(path: str) -> list[str]:
    """All names of a training file; a control character (tab, escape) is an error naming the line."""
    names = []
    for line_no, name in iter_names(path):
        char = control_character(name)
        if char:
            raise ConfigError(f"{path}: line {line_no} holds the control character {quoted(char)}: names are one "
                              f"line of printable text")
        names.append(name)
    if not names:
        raise ConfigError(f"{path}: no names found (empty file?)")
    return names


def name_list(names: Any, what: str = "names") -> list[str]:
    """names as a list of strings; ConfigError for one string or a non-string item (API input)."""
    if isinstance(names, (str, bytes)):
        raise ConfigError(f"{what} must be a list of names, not one string (write [{quoted(names)}])")
    try:
        out = list(names)
    except TypeError:
        raise ConfigError(f"{what} must be a list of names, not {type(names).__name__}") from None
    for index, name in enumerate(out):
        if not isinstance(name, str):
            raise ConfigError(f"{what}: item {index} ({quoted(name)}) is not a string")
    return out


ECHO_CHARS = 80  # user input shown in a message (a SMILES, a name, an option) is cut to this many characters


def printable(name: str, limit: int = ECHO_CHARS) -> str:
    """A name made safe for one line of output: control characters escaped, long names cut (with "…")."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: Any, limit: int = ECHO_CHARS) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters: a 5,000-character SMILES stays one short line."""
    return printable(repr(value), limit)
