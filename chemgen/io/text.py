"""Text helpers shared by the readers, the filter specs and OPSIN's input cleaning."""
from __future__ import annotations

OPENERS, CLOSERS = "([{", ")]}"


class UnbalancedBrackets(ValueError):
    """A closing bracket with nothing open, or brackets left open at the end."""


def split_outside_brackets(text: str, separator: str, strict: bool = False) -> list[str]:
    """Split at ``separator`` characters outside (), [] and {}; stripped, empty parts dropped.

    strict: raise UnbalancedBrackets (message ``unbalanced ')'`` or ``'('``)
    instead of tolerating a stray bracket.
    """
    parts, depth, current = [], 0, []
    for char in text:
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth -= 1
            if depth < 0 and strict:
                raise UnbalancedBrackets(f"unbalanced {char!r}")
        if char == separator and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth > 0 and strict:
        raise UnbalancedBrackets("unbalanced '('")
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]
