"""Scoring for goal-directed generation: filters as components, transforms to [0, 1], an aggregate.

A scoring function is a list of components and an aggregation. Each component
is a filter (a spec such as ``similar(to=lead.smi)`` or a filter object); its
value is the verdict's score, or with ``value=`` a numeric annotation of the
verdict (rdkit's ``mw``, ``clogp``, ``qed``...), optionally mapped to [0, 1]
by a transform. A component whose filter fails the candidate is 0.

Components come in two roles. A *gate* (a pass/fail filter such as ``opsin``,
or ``rdkit`` with ranges) multiplies the total by 1 or 0. A *score* (a filter
marked ``graded``, such as ``similar``, or any component with ``value=`` or a
transform) enters the weighted mean, geometric (default) or arithmetic::

    total = product(gates) * mean_w(scores)

so ``opsin,rdkit,similar(to=lead.smi)`` scores a name by its similarity to the
lead when OPSIN and RDKit accept it, and 0 otherwise.

A component may also be an *oracle* (:mod:`chemgen.goal.oracle`): a Python
callable mapping a list of SMILES to one score in [0, 1] each, or an external
command, ``command(run="python dock.py", parallel=4, timeout=600)``. An oracle
is a score component like any other, with two differences: it is sent only the
candidates that every gate before it passed, each structure once (cached by
canonical SMILES) and all of a batch's new ones in one call; and its errors end
the run. An oracle given alone is gated as ``opsin,rdkit(properties=none),oracle``
(a name must parse to a structure that RDKit accepts before the oracle sees it).

On the command line a component's scoring settings follow its filter spec in
square brackets: ``rdkit[value=qed]``,
``rdkit[value=mw,transform=double_sigmoid,low=200,high=450,weight=2]``,
``similar(to=a.smi)[transform=clip,low=0,high=0.75]``. In a TOML file they are
keys of a ``[[scoring.component]]`` table (see :func:`scoring_from_table`).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from chemgen.errors import ChemgenWarning, ConfigError
from chemgen.filters import Candidate, Verdict, build_filters, parse_spec, split_specs
from chemgen.filters.options import parse_choice, parse_number
from chemgen.filters.stage import run_filter
from chemgen.goal.oracle import (
    Oracle,
    OracleFilter,
    ScoredStructures,
    is_command_spec,
    oracle_of,
    parse_command_spec,
)

AGGREGATIONS = ("geometric", "arithmetic")
ROLES = ("gate", "score")
MODIFIER_KEYS = ("weight", "value", "transform", "low", "high", "k", "role", "name")
ORACLE_GATES = ("opsin", "rdkit(properties=none)")  # what an oracle given alone is gated by
ZERO_CALLS = 5  # batches scored 0 throughout before the run says why
ORACLE = "oracle"  # the label of a Python oracle


def is_oracle(value: Any) -> bool:
    """A ``command(...)`` spec, an Oracle or OracleFilter, or a plain callable (not a filter object)."""
    if isinstance(value, str):
        return is_command_spec(value)
    if isinstance(value, (Oracle, OracleFilter)):
        return True
    return callable(value) and not callable(getattr(value, "check", None))


def check_spec(spec: str) -> None:
    """A malformed filter or command spec fails here, in one line."""
    if is_command_spec(spec):
        parse_command_spec(spec)
    else:
        parse_spec(spec)


# ---------------------------------------------------------------- transforms


def sigmoid(x: float, low: float, high: float, k: float = 0.5) -> float:
    """Rises from ~0 below ``low`` to ~1 above ``high`` (0.5 at the midpoint; REINVENT's form)."""
    exponent = k * 10.0 * ((high + low) / 2.0 - x) / (high - low)
    return 1.0 / (1.0 + 10.0 ** min(exponent, 300.0))


def reverse_sigmoid(x: float, low: float, high: float, k: float = 0.5) -> float:
    """Falls from ~1 below ``low`` to ~0 above ``high``."""
    return 1.0 - sigmoid(x, low, high, k)


def double_sigmoid(x: float, low: float, high: float, k: float = 0.5) -> float:
    """~1 inside [low, high], 0.5 at either end, falling off outside (steepness k per tenth of the window)."""
    width = high - low
    up = 1.0 / (1.0 + 10.0 ** min(k * 10.0 * (low - x) / width, 300.0))
    down = 1.0 / (1.0 + 10.0 ** min(k * 10.0 * (x - high) / width, 300.0))
    return up * down


def clip(x: float, low: float, high: float, k: float = 0.5) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between (GuacaMol's clipped score)."""
    return float(min(1.0, max(0.0, (x - low) / (high - low))))


TRANSFORMS: dict[str, Callable[..., float]] = {
    "sigmoid": sigmoid, "reverse_sigmoid": reverse_sigmoid, "double_sigmoid": double_sigmoid, "clip": clip,
}


# ---------------------------------------------------------------- components


@dataclass
class Component:
    """One scoring component: a filter, what to read from its verdict, and how to map it to [0, 1]."""

    filter: Any  # a filter spec ("rdkit(mw=150:500)"), a filter object, or an oracle (callable, command(...) spec)
    weight: float = 1.0  # weight in the mean (scores only)
    value: Optional[str] = None  # annotation to read (e.g. "qed"); None: the verdict's score
    transform: Optional[str] = None  # sigmoid, reverse_sigmoid, double_sigmoid, clip; None: clipped to [0, 1]
    low: Optional[float] = None
    high: Optional[float] = None
    k: float = 0.5  # steepness of the sigmoids
    role: Optional[str] = None  # "gate" or "score"; None: decided from the filter (see module doc)
    name: Optional[str] = None  # label in logs; default the filter's name (plus ".value")

    def __post_init__(self) -> None:
        what = f"scoring component {self.filter if isinstance(self.filter, str) else self.name or 'object'!s}"
        self.weight = parse_number(what, "weight", self.weight, minimum=0.0)
        if self.weight == 0:
            raise ConfigError(f"{what}: weight must be positive")
        if self.transform is not None:
            self.transform = parse_choice(what, "transform", self.transform, tuple(TRANSFORMS))
            if self.low is None or self.high is None:
                raise ConfigError(f"{what}: transform {self.transform} needs low= and high=")
        for key in ("low", "high"):
            if getattr(self, key) is not None:
                setattr(self, key, parse_number(what, key, getattr(self, key)))
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ConfigError(f"{what}: low ({self.low:g}) must be below high ({self.high:g})")
        self.k = parse_number(what, "k", self.k, minimum=0.0)
        if self.role is not None:
            self.role = parse_choice(what, "role", self.role, ROLES)
        if self.value is not None and (self.value is True or not str(self.value).strip()):
            raise ConfigError(f"{what}: value= needs an annotation name (e.g. value=qed)")

    def filter_name(self) -> str:
        if isinstance(self.filter, OracleFilter):
            return self.filter.name
        if is_oracle(self.filter):
            return "command" if isinstance(self.filter, str) else ORACLE
        if isinstance(self.filter, str):
            return parse_spec(self.filter)[0]
        return str(getattr(self.filter, "name", "filter"))

    def oracle_filter(self) -> Optional[OracleFilter]:
        """This component's oracle as a filter with its own cache (None when it is a plain filter)."""
        if isinstance(self.filter, OracleFilter):
            return self.filter
        if not is_oracle(self.filter):
            return None
        oracle = oracle_of(self.filter)
        return OracleFilter(oracle, ScoredStructures(oracle), self.filter_name())

    def label(self) -> str:
        if self.name:
            return str(self.name)
        return self.filter_name() + (f".{self.value}" if self.value else "")

    def evaluate(self, candidate: Candidate, verdict: Verdict) -> float:
        """This component's value in [0, 1] for one candidate (0 when the filter failed it)."""
        if not verdict.passed:
            return 0.0
        if self.value is None:
            raw: Any = verdict.score
        else:
            raw = verdict.annotations.get(self.value, candidate.properties.get(self.value))
        try:
            x = float(raw)
        except (TypeError, ValueError):
            return 0.0
        if not math.isfinite(x):
            return 0.0
        if self.transform is None:
            return min(1.0, max(0.0, x))
        return TRANSFORMS[self.transform](x, self.low, self.high, self.k)


def split_component(text: str) -> tuple[str, dict[str, Any]]:
    """``"rdkit(mw=1:2)[value=qed,weight=2]"`` -> ``("rdkit(mw=1:2)", {"value": "qed", "weight": "2"})``."""
    text = text.strip()
    if not text.endswith("]"):
        return text, {}
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        depth += {"]": 1, ")": 1, "}": 1, "[": -1, "(": -1, "{": -1}.get(text[index], 0)
        if depth == 0:
            break
    else:
        raise ConfigError(f"unbalanced brackets in scoring component {text!r}")
    spec, body = text[:index].strip(), text[index + 1 : -1]
    if not spec:
        raise ConfigError(f"scoring component {text!r} names no filter before its [settings]")
    modifiers: dict[str, Any] = {}
    for item in split_specs(body):
        key, sep, value = item.partition("=")
        key = key.strip()
        if key not in MODIFIER_KEYS:
            raise ConfigError(f"unknown scoring setting {key!r} in {text!r} (settings: {', '.join(MODIFIER_KEYS)})")
        if not sep or not value.strip():
            raise ConfigError(f"scoring setting {key!r} in {text!r} needs a value ({key}=...)")
        modifiers[key] = value.strip()
    return spec, modifiers


def components_from_spec(text: str) -> list[Component]:
    """Components from a command-line spec: ``"opsin,rdkit[value=qed],similar(to=a.smi)"``."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("empty scoring spec: name at least one filter, e.g. --score 'opsin,rdkit'")
    components = []
    for item in split_specs(text):
        spec, modifiers = split_component(item)
        check_spec(spec)
        components.append(Component(spec, **modifiers))
    return components


# ---------------------------------------------------------------- the scoring function


@dataclass
class ScoreTable:
    """Scores of a batch: the total (N,), each component's value (N, C), and the component labels."""

    total: np.ndarray
    values: np.ndarray
    labels: list[str]

    def components_of(self, row: int) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.labels, self.values[row])}


@dataclass
class ScoringFunction:
    """Components and their aggregation; use as a context manager (filters are built and prepared on entry)."""

    components: list[Component]
    aggregation: str = "geometric"
    run_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.components:
            raise ConfigError("scoring needs at least one component")
        self.components = [c if isinstance(c, Component) else Component(c) for c in self.components]
        if len(self.components) == 1 and is_oracle(self.components[0].filter):
            self.components = [Component(gate) for gate in ORACLE_GATES] + self.components
        self.aggregation = parse_choice("scoring", "aggregation", self.aggregation, AGGREGATIONS)
        self.filters: list[Any] = []
        self.roles: list[str] = []
        self.labels = _unique([c.label() for c in self.components])
        self.oracles = {j: f for j, c in enumerate(self.components) if (f := c.oracle_filter()) is not None}

    @property
    def scored(self) -> Optional[ScoredStructures]:
        """The first oracle's record of what it scored (None without an oracle)."""
        return next(iter(self.oracles.values())).scored if self.oracles else None

    def start_run(self, budget: Optional[int]) -> None:
        """A run begins: every oracle's record starts empty, capped at ``budget`` structures."""
        for oracle in self.oracles.values():
            oracle.scored = ScoredStructures(oracle.scored.oracle, budget)

    @classmethod
    def from_spec(cls, text: str, aggregation: str = "geometric", run_options: Optional[Mapping[str, Any]] = None
                  ) -> "ScoringFunction":
        return cls(components_from_spec(text), aggregation, dict(run_options or {}))

    def describe(self) -> list[dict[str, Any]]:
        """The components as plain data (for model-file meta and checkpoints)."""
        out = []
        for label, c in zip(self.labels, self.components):
            row = {"name": label, "filter": c.filter if isinstance(c.filter, str) else c.filter_name(),
                   "weight": c.weight, "value": c.value, "transform": c.transform, "low": c.low, "high": c.high,
                   "k": c.k, "role": c.role}
            out.append({k: v for k, v in row.items() if v is not None})
        return out

    # ------------------------------------------------------------ lifetime

    def __enter__(self) -> "ScoringFunction":
        self.open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def open(self) -> None:
        """Build every component's filter (one-line errors for bad specs) and start slow ones."""
        if self.filters:
            return
        self.filters = build_filters([self.oracles.get(j, c.filter) for j, c in enumerate(self.components)],
                                     self.run_options)
        self.roles = [c.role or ("score" if c.value or c.transform or getattr(f, "graded", False) else "gate")
                      for c, f in zip(self.components, self.filters)]
        self.check_structures()
        self.check_values()
        self._calls, self._best = 0, np.zeros(len(self.components))
        try:
            for filter_ in self.filters:
                prepare = getattr(filter_, "prepare", None)
                if callable(prepare):
                    prepare()
        except BaseException:
            self.close()
            raise

    def check_structures(self) -> None:
        """A component that needs a structure (rdkit, an oracle) with none made before it would score 0
        throughout: refused before the run starts."""
        for j, (filter_, label) in enumerate(zip(self.filters, self.labels)):
            needs = getattr(filter_, "needs_structure", False) or j in self.oracles
            if needs and not any(getattr(f, "makes_structure", False) for f in self.filters[:j]):
                self.close()
                raise ConfigError(f"scoring component {label!r} needs a structure, but no component before it makes "
                                  f"one, so it would score 0 throughout: put opsin first (e.g. opsin,{self.components[j].filter_name()})")

    def check_values(self) -> None:
        """``value=`` must name an annotation this component or one before it gives, where they say which."""
        for j, (component, filter_) in enumerate(zip(self.components, self.filters)):
            given = [getattr(f, "annotations", None) for f in self.filters[: j + 1]]
            if component.value is None or any(g is None for g in given):
                continue  # a filter that does not list its annotations: the run's first batches will tell
            known = sorted({a for g in given for a in g})
            if component.value not in known:
                self.close()
                raise ConfigError(f"scoring component {self.labels[j]!r}: {component.filter_name()} gives no "
                                  f"{component.value!r} (it and the components before it give: {', '.join(known)})")

    def _explain_zeros(self, values: np.ndarray, candidates: Sequence[Candidate]) -> None:
        """After ZERO_CALLS batches that all scored 0, say once which components gave nothing, and why."""
        self._calls += 1
        self._best = np.maximum(self._best, values.max(axis=0, initial=0.0))
        if self._calls != ZERO_CALLS or self._best.any():
            return
        reasons = []
        for component, label, best in zip(self.components, self.labels, self._best):
            if best:
                continue
            if component.value and not any(c.properties.get(component.value) is not None for c in candidates):
                reasons.append(f"{label} (no candidate carries {component.value!r})")
            else:
                reasons.append(label)
        warnings.warn(f"every name of the first {ZERO_CALLS} steps scored 0; components that gave 0 to all: "
                      f"{', '.join(reasons)}", ChemgenWarning, stacklevel=3)

    def close(self) -> None:
        filters, self.filters = self.filters, []
        for filter_ in filters:
            close = getattr(filter_, "close", None)
            if callable(close):
                close()

    # ------------------------------------------------------------ scoring

    def score(self, candidates: Sequence[Candidate]) -> ScoreTable:
        """Every component over every candidate (structures found by earlier ones reach later ones), aggregated."""
        self.open()
        candidates = list(candidates)
        values = np.zeros((len(candidates), len(self.components)))  # (N, C)
        for j, (component, filter_, label) in enumerate(zip(self.components, self.filters, self.labels)):
            if not candidates:
                break
            rows = self._rows_for(j, values) if getattr(filter_, "costly", False) else range(len(candidates))
            batch = [candidates[i] for i in rows]
            verdicts = filter_.check(batch) if getattr(filter_, "costly", False) else run_filter(filter_, batch)
            for i, verdict in zip(rows, verdicts):
                candidates[i].record(label, verdict)
                values[i, j] = component.evaluate(candidates[i], verdict)
        self._explain_zeros(values, candidates)
        return ScoreTable(self.aggregate(values), values, list(self.labels))

    def _rows_for(self, j: int, values: np.ndarray) -> list[int]:
        """The candidates a costly component (an oracle) is sent: those every gate before it passed."""
        gates = [g for g in range(j) if self.roles[g] == "gate"]
        return [i for i in range(len(values)) if all(values[i, g] > 0 for g in gates)]

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Totals (N,) from component values (N, C): product of the gates times the weighted mean of the scores."""
        roles = self.roles or ["score"] * len(self.components)
        gates = np.array([r == "gate" for r in roles])
        total = values[:, gates].prod(axis=1) if gates.any() else np.ones(len(values))
        if (~gates).any():
            scores = values[:, ~gates]  # (N, S)
            weights = np.array([c.weight for c, g in zip(self.components, gates) if not g])
            weights = weights / weights.sum()
            if self.aggregation == "arithmetic":
                mean = scores @ weights
            else:
                with np.errstate(divide="ignore"):
                    mean = np.exp(np.log(np.maximum(scores, 0.0)) @ weights)
            total = total * mean
        return np.clip(total, 0.0, 1.0)


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


def scoring_from_table(table: Mapping[str, Any], run_options: Optional[Mapping[str, Any]] = None) -> ScoringFunction:
    """A scoring function from a TOML ``[scoring]`` table::

        [scoring]
        aggregation = "geometric"          # or "arithmetic"
        [[scoring.component]]
        filter = "opsin"
        [[scoring.component]]
        filter = "rdkit"
        value = "mw"
        transform = "double_sigmoid"
        low = 200
        high = 450
        weight = 1
        [[scoring.component]]              # an external command as an oracle
        filter = 'command(run="python dock.py", parallel=4, timeout=600)'
    """
    if not isinstance(table, Mapping):
        raise ConfigError("[scoring] must be a table")
    unknown = sorted(set(table) - {"aggregation", "component"})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in [scoring] (keys: aggregation, component)")
    rows = table.get("component")
    if not isinstance(rows, list) or not rows:
        raise ConfigError("[scoring] needs at least one [[scoring.component]] table with a filter = \"...\" key")
    components = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping) or not isinstance(row.get("filter"), str):
            raise ConfigError(f"scoring component {number} needs filter = \"SPEC\"")
        extra = sorted(set(row) - {"filter", *MODIFIER_KEYS})
        if extra:
            raise ConfigError(f"unknown key {extra[0]!r} in scoring component {number} "
                              f"(keys: filter, {', '.join(MODIFIER_KEYS)})")
        check_spec(row["filter"])
        components.append(Component(**dict(row)))
    return ScoringFunction(components, table.get("aggregation", "geometric"), dict(run_options or {}))

