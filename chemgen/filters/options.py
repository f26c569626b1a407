"""Parsers for filter options, shared by every plugin.

Options arrive from a spec such as ``rdkit(mw=150:500,lipinski)`` as strings,
or ``True`` for a bare flag; from Python they may already be numbers. Each
parser returns the typed value or raises ConfigError in one line naming the
filter and the option.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

from chemgen.errors import ConfigError
from chemgen.io.names import quoted

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0", "")


def parse_flag(filter_name: str, option: str, value: Any) -> bool:
    """A yes/no option: a bare flag (True), None, or true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS
    raise ConfigError(f"{filter_name}: option {option}={quoted(value)} is a flag (give it bare, or true/false)")


def parse_number(filter_name: str, option: str, value: Any, minimum: Optional[float] = None,
                 maximum: Optional[float] = None, integer: bool = False) -> Any:
    """A finite number (int with ``integer``) within [minimum, maximum]."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} needs {kind}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} must be a finite number")
    if minimum is not None and number < minimum:
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} must be at least {minimum:g}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} must be at most {maximum:g}")
    return number


def parse_seconds(filter_name: str, option: str, value: Any) -> float:
    """A positive number of seconds."""
    seconds = parse_number(filter_name, option, value, minimum=0)
    if seconds <= 0:
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} must be a positive number of seconds")
    return seconds


def parse_range(filter_name: str, option: str, value: Any) -> tuple[Optional[float], Optional[float]]:
    """``"150:500"``, ``":5"``, ``"0.5:"`` or a ``(low, high)`` pair -> (low, high), open ends None."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        ends = list(value)
    elif isinstance(value, str) and value.count(":") == 1:
        ends = [part.strip() or None for part in value.split(":")]
    else:
        raise ConfigError(f"{filter_name}: malformed range {option}={quoted(value)} (expected LO:HI, LO: or :HI)")
    low, high = (None if end is None else parse_number(filter_name, option, end) for end in ends)
    if low is not None and high is not None and low > high:
        raise ConfigError(f"{filter_name}: empty range {option}={quoted(value)} (low end above high end)")
    return low, high


def parse_choice(filter_name: str, option: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices`` (case-insensitive)."""
    text = str(value).strip().lower()
    if text not in choices:
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)} must be one of {', '.join(choices)}")
    return text


def parse_path(filter_name: str, option: str, value: Any, must_exist: bool = True) -> Path:
    """A file path (an existing file unless ``must_exist`` is false)."""
    if value is True or value is None or not str(value).strip():
        raise ConfigError(f"{filter_name}: option {option} needs a file path ({option}=PATH)")
    path = Path(str(value).strip()).expanduser()
    if must_exist and not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise ConfigError(f"{filter_name}: option {option}={quoted(value)}: {path} {what}")
    return path
