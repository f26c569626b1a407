"""Settings declared once: a dataclass field per setting, with its default, one-line help, check and flag.

A settings dataclass (a :class:`CheckedSettings`) checks every field on
creation with the field's own check; command-line flags, an estimator's
settings and what a model file stores all derive from the same fields.
"""
from __future__ import annotations

import math
from dataclasses import asdict, field, fields
from typing import Any, Callable, Optional, Sequence

from chemgen.errors import ConfigError
from chemgen.io.names import quoted

Check = Callable[[str, Any], str]  # (setting name, value) -> "" or why the value is wrong


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


MAX_COUNT = 10**9  # the largest count (steps, names, units, budget) any setting takes


def _too_many(name: str, value: Any) -> str:
    return f"{name} = {value:,} is more than any run can use (at most {MAX_COUNT:,})"


def positive_int(name: str, value: Any) -> str:
    if _is_int(value) and value > MAX_COUNT:
        return _too_many(name, value)
    return "" if _is_int(value) and value > 0 else f"{name} must be a positive integer, not {quoted(value)}"


def non_negative_int(name: str, value: Any) -> str:
    if _is_int(value) and value > MAX_COUNT:
        return _too_many(name, value)
    return "" if _is_int(value) and value >= 0 else f"{name} must be a non-negative integer, not {quoted(value)}"


def positive_number(name: str, value: Any) -> str:
    return "" if _is_number(value) and value > 0 else f"{name} must be a positive number, not {quoted(value)}"


def non_negative_number(name: str, value: Any) -> str:
    return "" if _is_number(value) and value >= 0 else f"{name} must be a non-negative number, not {quoted(value)}"


def share_below_one(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 <= value < 1 else f"{name} must be in [0, 1), not {quoted(value)}"


def weight_up_to_one(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 < value <= 1 else f"{name} must be in (0, 1], not {quoted(value)}"


def nats(name: str, value: Any) -> str:
    ok = _is_number(value) and value >= 0
    return "" if ok else f"{name} must be a non-negative number of nats, not {quoted(value)}"


def boolean(name: str, value: Any) -> str:
    return "" if isinstance(value, bool) else f"{name} must be True or False, not {quoted(value)}"


def seed(name: str, value: Any) -> str:
    ok = value is None or (_is_int(value) and 0 <= value < 2**63)
    return "" if ok else f"{name} must be a non-negative integer (or None), not {quoted(value)}"


def decay_share(name: str, value: Any) -> str:
    return "" if _is_number(value) and 0 < value <= 1 else f"{name} must be in (0, 1], not {quoted(value)}"


def one_of(choices: Sequence[str]) -> Check:
    def check(name: str, value: Any) -> str:
        return "" if value in choices else f"{name} must be one of {', '.join(choices)}, not {quoted(value)}"
    return check


def setting(default: Any, help: str, check: Check, flag: str, choices: Optional[Sequence[str]] = None,
            metavar: Optional[str] = None) -> Any:
    """A config field: its default, one-line help, check, and command-line flag."""
    return field(default=default, metadata={"help": help, "check": check, "flag": flag, "choices": choices,
                                            "metavar": metavar})


class CheckedSettings:
    """Base of the settings dataclasses: every field checked on creation, by its own check."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            message = f.metadata["check"](f.name, getattr(self, f.name))
            if message:
                raise ConfigError(message)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
