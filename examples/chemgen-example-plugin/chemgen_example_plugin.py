"""An example third-party chemgen filter: keep names whose length lies in a window.

Install with ``pip install examples/chemgen-example-plugin``; then
``chemgen filters`` lists ``length`` and ``--filters "opsin,length(max=40)"`` uses it.
"""
from __future__ import annotations

from chemgen import Candidate, Verdict
from chemgen.errors import ConfigError


class LengthFilter:
    """Pass names of ``min`` to ``max`` characters (options arrive as strings)."""

    name = "length"

    def __init__(self, min: str = "1", max: str = "120") -> None:
        try:
            self.min, self.max = int(min), int(max)
        except ValueError:
            raise ConfigError(f"length filter: min and max must be integers, not {min!r}, {max!r}") from None
        if self.min > self.max:
            raise ConfigError(f"length filter: min {self.min} exceeds max {self.max}")

    def available(self) -> tuple[bool, str]:
        return True, ""

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        """One verdict per candidate, in order: the batch contract."""
        return [self._judge(len(c.name)) for c in candidates]

    def _judge(self, length: int) -> Verdict:
        if self.min <= length <= self.max:
            return Verdict(True, 1.0, "", {"length": length})
        return Verdict(False, 0.0, f"{length} characters, outside {self.min}..{self.max}", {"length": length})
