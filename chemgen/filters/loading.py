"""Finding and building filters: entry points read without importing, specs parsed, options bound.

Filters are found through the entry-point group ``chemgen.filters`` from the
installed distributions' metadata alone; a plugin's module is imported only
when that filter is asked for (flake8's finder works the same way). An entry
point names a class or factory called with the filter's options as keyword
arguments, e.g. ``rdkit(mw=150:500,lipinski)`` -> ``RDKitFilter(mw="150:500",
lipinski=True)``. Options are bound by the factory's signature, so an unknown
option is reported as such and a bug inside a plugin's constructor is reported
as that plugin failing to start, never as a bad option.
"""
from __future__ import annotations

import importlib.metadata
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from chemgen.errors import ChemgenError, ConfigError, FilterError
from chemgen.io.names import ECHO_CHARS, printable, quoted
from chemgen.io.text import UnbalancedBrackets, split_outside_brackets

ENTRY_POINT_GROUP = "chemgen.filters"


@dataclass
class FilterEntry:
    """An installed (or injected) filter: where it comes from and how to build it."""

    name: str
    source: str  # "package[entry]" for entry points, "injected" for test/API injection
    target: str = ""  # "module:attribute" of an entry point
    factory: Optional[Callable[..., Any]] = None  # set once loaded (or injected)
    load_error: Optional[str] = None  # why loading failed, if it did

    def load(self) -> Callable[..., Any]:
        """Import the plugin (once); FilterError naming ``package[entry]`` if that fails."""
        if self.factory is None and self.load_error is None:
            try:
                self.factory = importlib.metadata.EntryPoint(self.name, self.target, ENTRY_POINT_GROUP).load()
            except Exception as exc:  # a broken plugin must not break chemgen
                self.load_error = f"{type(exc).__name__}: {exc}"
        if self.factory is None:
            raise FilterError(f"filter {quoted(self.name)} from {self.source} failed to load: {self.load_error}")
        return self.factory


_injected: dict[str, Callable[..., Any]] = {}


def inject_filter(name: str, factory: Callable[..., Any]) -> None:
    """Register a filter factory without installing a package (tests, notebooks)."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w-]*", name):
        raise FilterError(f"a filter's name is a word such as 'my_filter' (letters, digits, _ and -), "
                          f"not {quoted(name)}")
    if not callable(factory):
        raise FilterError(f"filter {quoted(name)}: the factory must be callable (a class or function), "
                          f"not {quoted(factory)}")
    _injected[name] = factory


def remove_injected(name: str) -> None:
    """Undo :func:`inject_filter`."""
    _injected.pop(name, None)


def normalize_distribution(name: str) -> str:
    """A distribution's name as packaging compares them (PEP 503): chemgen_Example.plugin -> chemgen-example-plugin."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_name(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return normalize_distribution(dist.metadata["Name"] if dist is not None else ep.value.split(":")[0].split(".")[0])


def discover_filters() -> dict[str, FilterEntry]:
    """All filters by name, from metadata only (nothing imported); injected ones win a clash."""
    found = {
        ep.name: FilterEntry(ep.name, f"{_distribution_name(ep)}[{ep.name}]", target=ep.value)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }
    for name, factory in _injected.items():
        found[name] = FilterEntry(name, "injected", factory=factory)
    return found


# ---------------------------------------------------------------- specs

_SPEC = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def split_specs(text: str) -> list[str]:
    """Split ``"suffix,rdkit(mw=1:2,lipinski),opsin"`` at commas outside brackets."""
    try:
        return split_outside_brackets(text, ",", strict=True)
    except UnbalancedBrackets as exc:
        raise ConfigError(f"{exc} in filter list {quoted(text)}") from None


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"rdkit(mw=150:500,lipinski)"`` -> ``("rdkit", {"mw": "150:500", "lipinski": True})``."""
    match = _SPEC.match(spec)
    if not match:
        raise ConfigError(f"malformed filter spec {quoted(spec)} (expected name or name(key=value,...))")
    name, body = match.group(1), match.group(2)
    options: dict[str, Any] = {}
    for item in split_specs(body or ""):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key.isidentifier():
            raise ConfigError(f"malformed option {quoted(item)} in filter spec {quoted(spec)}")
        options[key] = value.strip() if sep else True
    return name, options


def spec_list(specs: Any) -> list[Any]:
    """Specs as a list: a comma-separated string, a list of specs or filter objects; "none" or [] -> [].

    None is refused: it could mean the default filters as well as none."""
    if isinstance(specs, str):
        if not specs.strip():
            raise ConfigError("empty filter list: name filters, or 'none' for no filters")
        return [] if specs.strip().lower() == "none" else split_specs(specs)
    if specs is None or isinstance(specs, (bytes, Mapping)) or not hasattr(specs, "__iter__"):
        raise FilterError(f"filters are a spec such as 'opsin,rdkit', a list of specs or filter objects, or 'none' "
                          f"for no filters; not {quoted(specs, 40)}")
    return list(specs)


# ---------------------------------------------------------------- building


def accepted_options(factory: Callable[..., Any]) -> Optional[set[str]]:
    """Keyword options a factory takes, or None when it takes any (``**options``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def bind_options(name: str, factory: Callable[..., Any], options: Mapping[str, Any],
                 run_options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments for one filter: its own options, plus run-wide ones it accepts.

    run_options (such as ``offline``) reach only the filters whose signature
    names them; an option the filter does not take is a one-line FilterError.
    """
    accepted = accepted_options(factory)
    unknown = sorted(set(options) - accepted) if accepted is not None else []
    if unknown:
        takes = ", ".join(sorted(accepted - {"self"})) or "none"
        raise FilterError(f"filter {quoted(name)} has no option {quoted(unknown[0])} (its options: {takes})")
    shared = {k: v for k, v in run_options.items() if accepted is None or k in accepted}
    return {**shared, **options}


def find_entry(name: str, installed: dict[str, FilterEntry]) -> FilterEntry:
    """The installed plugin called ``name``; an unknown name is a one-line FilterError listing the installed ones."""
    entry = installed.get(name)
    if entry is None:
        known = ", ".join(sorted(installed)) or "none"
        raise FilterError(f"unknown filter {quoted(name)}; installed filters: {known}")
    return entry


def build_filter(spec: Any, installed: dict[str, FilterEntry], run_options: Mapping[str, Any] = {}) -> Any:
    """One filter from a spec string (or a ready filter object); errors are one line."""
    if not isinstance(spec, str):
        if not callable(getattr(spec, "check", None)):
            raise FilterError(f"not a filter: {quoted(spec)} (give a spec string or an object with check())")
        return spec
    name, options = parse_spec(spec)
    entry = find_entry(name, installed)
    factory = entry.load()
    kwargs = bind_options(name, factory, options, run_options)
    try:
        instance = factory(**kwargs)
    except ChemgenError:
        raise
    except Exception as exc:  # the plugin's own bug: name the plugin, not the user's options
        raise FilterError(f"filter {quoted(name)} from {entry.source} failed to start: "
                          f"{type(exc).__name__}: {printable(str(exc), 2 * ECHO_CHARS)}") from None
    if not getattr(instance, "name", None):
        instance.name = name
    return instance
