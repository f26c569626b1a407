"""Public names imported on first use (PEP 562), so importing a package loads its heavy modules only when needed."""
from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_getattr(package: str, modules: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__``: a public name's module (``modules[name]``) imported on first use, the name kept."""

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name]), name)
        namespace[name] = value
        return value

    return __getattr__
