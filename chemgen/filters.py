"""The filter plugin contract: candidates, verdicts, discovery and the filter stage.

A filter is any object with a ``name`` (str) and a batch method
``check(candidates) -> list[Verdict]`` returning exactly one verdict per
candidate, in order. It may also define ``available() -> (bool, str)`` (can it
run here, and if not why), ``prepare()`` (start slow resources early, without
blocking: the pipeline calls it before sampling) and ``close()`` (release
processes, files).

Filters are found through the entry-point group ``chemgen.filters``; an entry
point names a class (or factory) called with the filter's options as keyword
arguments, e.g. ``rdkit(mw=150:500,lipinski)`` -> ``RDKitFilter(mw="150:500",
lipinski=True)``. A factory rejects a bad option by raising
:class:`chemgen.errors.FilterError`/``ConfigError`` (or ``TypeError`` for an
unknown keyword) with a one-line message.

Structure annotations a filter finds (``smiles``, ``inchikey``) are copied onto
the candidate, so later filters (rdkit after opsin) can use them.
"""
from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from chemgen.errors import ConfigError, FilterError

ENTRY_POINT_GROUP = "chemgen.filters"
STRUCTURE_KEYS = ("smiles", "inchikey")


@dataclass
class Verdict:
    """One filter's judgement of one candidate."""

    passed: bool  # does the candidate survive this filter
    score: float = 1.0  # plausibility in [0, 1]; 1.0 for a plain pass, 0.0 for a plain fail
    reason: str = ""  # short, human, e.g. "OPSIN: unmatched bracket"
    annotations: dict[str, Any] = field(default_factory=dict)  # smiles, inchikey, cid, mw, ...

    def __post_init__(self) -> None:
        self.score = float(min(1.0, max(0.0, self.score)))


@dataclass
class Candidate:
    """A name going through the filter stage, with what the model and the filters said of it."""

    name: str
    logp: Optional[float] = None  # natural-log likelihood under the model (None if unscored)
    logp_per_char: Optional[float] = None  # logp / (len(name) + 1), end token included
    in_training: Optional[bool] = None  # the name is one of the model's training names
    smiles: Optional[str] = None  # structure, once a filter has found one
    inchikey: Optional[str] = None
    properties: dict[str, Any] = field(default_factory=dict)  # annotations other than structure
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # filter name -> verdict

    @property
    def passed(self) -> bool:
        """True when every filter that saw the candidate passed it."""
        return all(v.passed for v in self.verdicts.values())

    @property
    def reasons(self) -> list[str]:
        """The reasons of failed verdicts, as ``filter: reason``."""
        return [f"{name}: {v.reason}" for name, v in self.verdicts.items() if not v.passed]

    def record(self, filter_name: str, verdict: Verdict) -> None:
        """Keep a verdict and lift its annotations onto the candidate."""
        self.verdicts[filter_name] = verdict
        for key, value in verdict.annotations.items():
            if value is None:
                continue
            if key in STRUCTURE_KEYS:
                setattr(self, key, value)
            else:
                self.properties[key] = value


# ---------------------------------------------------------------- discovery


@dataclass
class FilterEntry:
    """An installed (or injected) filter: where it comes from and how to build it."""

    name: str
    source: str  # "package[entry]" for entry points, "injected" for test/API injection
    factory: Optional[Callable[..., Any]] = None
    load_error: Optional[str] = None  # why loading failed, if it did


_injected: dict[str, Callable[..., Any]] = {}


def inject_filter(name: str, factory: Callable[..., Any]) -> None:
    """Register a filter factory without installing a package (tests, notebooks)."""
    _injected[name] = factory


def remove_injected(name: str) -> None:
    """Undo :func:`inject_filter`."""
    _injected.pop(name, None)


def _entry_source(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    package = dist.metadata["Name"] if dist is not None else ep.value.split(":")[0].split(".")[0]
    return f"{package}[{ep.name}]"


def discover_filters() -> dict[str, FilterEntry]:
    """All filters: entry points first, then injected ones (which win on a name clash).

    A plugin that fails to import is kept with its ``load_error`` so it can be
    reported by name; it never takes the others down.
    """
    found: dict[str, FilterEntry] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = _entry_source(ep)
        try:
            found[ep.name] = FilterEntry(ep.name, source, factory=ep.load())
        except Exception as exc:  # a broken plugin must not break chemgen
            found[ep.name] = FilterEntry(ep.name, source, load_error=f"{type(exc).__name__}: {exc}")
    for name, factory in _injected.items():
        found[name] = FilterEntry(name, "injected", factory=factory)
    return found


# ---------------------------------------------------------------- specs

TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0", "")


def parse_flag(filter_name: str, option: str, value: Any) -> bool:
    """A yes/no filter option: a bare flag (True), None, or true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS
    raise ConfigError(f"{filter_name}: option {option}={value!r} is a flag (give it bare, or true/false)")


_SPEC = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*(?:\((.*)\))?\s*$")


def split_specs(text: str) -> list[str]:
    """Split ``"suffix,rdkit(mw=1:2,lipinski),opsin"`` at top-level commas."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"unbalanced ')' in filter list {text!r}")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise ConfigError(f"unbalanced '(' in filter list {text!r}")
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"rdkit(mw=150:500,lipinski)"`` -> ``("rdkit", {"mw": "150:500", "lipinski": True})``."""
    match = _SPEC.match(spec)
    if not match:
        raise ConfigError(f"malformed filter spec {spec!r} (expected name or name(key=value,...))")
    name, body = match.group(1), match.group(2)
    options: dict[str, Any] = {}
    for item in split_specs(body or ""):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key.isidentifier():
            raise ConfigError(f"malformed option {item!r} in filter spec {spec!r}")
        options[key] = value.strip() if sep else True
    return name, options


def build_filter(name: str, options: dict[str, Any], installed: dict[str, FilterEntry]) -> Any:
    """Instantiate one filter by name with its options; errors are one line."""
    entry = installed.get(name)
    if entry is None:
        known = ", ".join(sorted(installed)) or "none"
        raise FilterError(f"unknown filter {name!r}; installed filters: {known}")
    if entry.factory is None:
        raise FilterError(f"filter {name!r} from {entry.source} failed to load: {entry.load_error}")
    try:
        instance = entry.factory(**options)
    except TypeError as exc:
        raise FilterError(f"bad options for filter {name!r}: {exc}") from None
    if not getattr(instance, "name", None):
        instance.name = name
    return instance


def build_filters(specs: Any) -> list[Any]:
    """Filters from a spec string (``"opsin,rdkit(lipinski)"``), a list of specs, or instances.

    ``None``/``"none"``/``[]`` means no filters.
    """
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [] if specs.strip().lower() == "none" else split_specs(specs)
    installed: Optional[dict[str, FilterEntry]] = None
    filters = []
    for spec in specs:
        if not isinstance(spec, str):
            filters.append(spec)  # an already built filter object
            continue
        installed = installed if installed is not None else discover_filters()
        name, options = parse_spec(spec)
        filters.append(build_filter(name, options, installed))
    return filters


# ---------------------------------------------------------------- the stage


@dataclass
class FilterStats:
    """How many candidates reached a filter and how many it passed."""

    seen: int = 0
    passed: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.seen if self.seen else 0.0


def run_filter(filter_, candidates: list[Candidate]) -> list[Verdict]:
    """One batch call, shielded: a crash fails the batch's verdicts, a bad length is an error."""
    try:
        verdicts = list(filter_.check(candidates))
    except Exception as exc:  # the plugin's bug becomes a per-name failed verdict
        return _check_one_by_one(filter_, candidates, exc)
    if len(verdicts) != len(candidates):
        raise FilterError(
            f"filter {filter_.name!r} returned {len(verdicts)} verdicts for {len(candidates)} candidates"
        )
    return verdicts


def _check_one_by_one(filter_, candidates: list[Candidate], batch_error: Exception) -> list[Verdict]:
    """After a batch crash, find which names crash the plugin and fail only those."""
    if len(candidates) == 1:
        return [Verdict(False, 0.0, f"filter crashed: {type(batch_error).__name__}: {batch_error}")]
    verdicts = []
    for candidate in candidates:
        try:
            verdicts.extend(filter_.check([candidate])[:1])
        except Exception as exc:
            verdicts.append(Verdict(False, 0.0, f"filter crashed: {type(exc).__name__}: {exc}"))
    return verdicts


def apply_filters(
    filters: list[Any],
    candidates: list[Candidate],
    stats: Optional[dict[str, FilterStats]] = None,
    keep_failed: bool = True,
) -> list[Candidate]:
    """Run each filter over the candidates still passing; return the candidates.

    A candidate that fails a filter is not sent to later ones. With
    ``keep_failed`` the failed candidates stay in the returned list (with their
    reasons); otherwise only survivors are returned. ``stats`` collects
    per-filter counts.
    """
    stats = stats if stats is not None else {}
    alive = list(candidates)
    for filter_ in filters:
        if not alive:
            break
        verdicts = run_filter(filter_, alive)
        counts = stats.setdefault(filter_.name, FilterStats())
        counts.seen += len(alive)
        for candidate, verdict in zip(alive, verdicts):
            candidate.record(filter_.name, verdict)
            counts.passed += bool(verdict.passed)
        alive = [c for c in alive if c.verdicts[filter_.name].passed]
    return list(candidates) if keep_failed else alive


def prepare_filters(filters: Iterable[Any]) -> None:
    """Let filters start slow resources (a JVM) while the model samples."""
    for filter_ in filters:
        prepare = getattr(filter_, "prepare", None)
        if callable(prepare):
            prepare()


def close_filters(filters: Iterable[Any]) -> None:
    """Release what filters hold (OPSIN processes, caches)."""
    for filter_ in filters:
        close = getattr(filter_, "close", None)
        if callable(close):
            close()
