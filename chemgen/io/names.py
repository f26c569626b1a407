"""Reading names files: one name per line, ``-`` for standard input, streamed.

Bytes that are not UTF-8 become U+FFFD, so such a line reaches the filters and
the scorer as a name they reject, never as a crash.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Iterator

from chemgen.errors import ConfigError

UNDECODABLE = "\ufffd"  # what bytes that are not UTF-8 become when read


def _open_text(path: str):
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
    if not Path(path).is_file():
        raise ConfigError(f"names file {path!r} does not exist")
    return open(path, encoding="utf-8", errors="replace", newline=None)


def iter_names(path: str) -> Iterator[tuple[int, str]]:
    """(line number, name) for each non-blank line, surrounding white space stripped."""
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            name = line.strip()
            if name:
                yield line_no, name


def read_training_names(path: str) -> list[str]:
    """All names of a training file; undecodable bytes are an error naming the line."""
    names = []
    for line_no, name in iter_names(path):
        if UNDECODABLE in name:
            raise ConfigError(f"{path}: line {line_no} is not valid UTF-8 text")
        names.append(name)
    if not names:
        raise ConfigError(f"{path}: no names found (empty file?)")
    return names


def printable(name: str, limit: int = 120) -> str:
    """A name made safe for one line of output: control characters escaped, long names cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"
