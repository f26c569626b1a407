"""Collecting survivors: one per structure (the likeliest name kept), ranked, mergeable.

A run feeds every candidate that passed the filters to a :class:`Collector`;
``results(n)`` ranks and cuts. Collectors merge: the merge of two partial runs
(shards with their own seeds, Dask tasks) equals one collector fed both, so
generation can be split and streamed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Optional

from chemgen.errors import ConfigError
from chemgen.filters.contract import Candidate
from chemgen.filters.stage import FilterStats

RANK_KEYS: dict[str, Callable[[Candidate], Optional[float]]] = {
    "logp": lambda c: c.logp,
    "logp-per-char": lambda c: c.logp_per_char,
}


def check_rank_by(rank_by: str) -> None:
    if rank_by not in RANK_KEYS:
        raise ConfigError(f"rank-by must be one of {', '.join(RANK_KEYS)}, not {rank_by!r}")


def rank(candidates: Iterable[Candidate], rank_by: str = "logp") -> list[Candidate]:
    """Candidates sorted best first by logp or logp-per-char (unscored last; ties by name)."""
    check_rank_by(rank_by)
    key = RANK_KEYS[rank_by]
    return sorted(candidates, key=lambda c: (-key(c) if key(c) is not None else float("inf"), c.name))


def structure_key(candidate: Candidate) -> str:
    """What two candidates share when they are the same compound: the InChIKey, else the name."""
    return candidate.inchikey or f"name:{candidate.name}"


def _logp(candidate: Candidate) -> float:
    return candidate.logp if candidate.logp is not None else float("-inf")


def _better(new: Candidate, kept: Candidate) -> bool:
    """Does ``new`` replace ``kept`` for the same structure: likelier, or as likely and earlier by name."""
    return (_logp(new), kept.name) > (_logp(kept), new.name)


class Results(list):
    """Ranked candidates (a list), with how many were tried and each filter's pass counts."""

    tried: int = 0
    duplicates: int = 0
    filter_stats: dict[str, FilterStats]
    settings: Mapping[str, Any] = MappingProxyType({})  # the run's settings (model, filters, sampling), for reports

    def summary(self) -> str:
        """One line: tried, kept, and the pass rate of each filter."""
        rates = ", ".join(f"{name} {s.passed}/{s.seen}" for name, s in self.filter_stats.items())
        return (f"tried {self.tried}, kept {len(self)} (duplicates dropped {self.duplicates})"
                + (f"; passed {rates}" if rates else ""))

    def to_frame(self, mols: bool = False) -> Any:
        """A pandas DataFrame with the CSV/JSONL columns; ``mols=True`` adds RDKit molecules (chemgen[notebook])."""
        from chemgen.io.frames import to_frame

        return to_frame(self, mols=mols)

    def _repr_html_(self) -> str:
        """Notebook display: the summary, then structures and key columns of the first 50."""
        from chemgen.io.html import results_html

        return results_html(self)


@dataclass
class Collector:
    """Survivors so far: with ``dedupe``, one per structure (InChIKey, else name), the likeliest kept."""

    dedupe: bool = True
    by_key: dict[Any, Candidate] = field(default_factory=dict)
    duplicates: int = 0
    tried: int = 0  # names that went into the filter stage
    filter_stats: dict[str, FilterStats] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_key)

    def add(self, candidate: Candidate) -> None:
        if not self.dedupe:
            self.by_key[(candidate.name, len(self.by_key))] = candidate
            return
        key = structure_key(candidate)
        kept = self.by_key.get(key)
        if kept is not None:
            self.duplicates += 1
            if not _better(candidate, kept):
                return
        self.by_key[key] = candidate

    def add_all(self, candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            self.add(candidate)

    def count(self, tried: int, stats: dict[str, FilterStats]) -> None:
        """Record names tried and filter counts of a batch (or another run)."""
        self.tried += tried
        for name, s in stats.items():
            self.filter_stats.setdefault(name, FilterStats()).add(s)

    def merge(self, other: "Collector") -> "Collector":
        """A new collector equal to one run over both inputs."""
        if self.dedupe != other.dedupe:
            raise ConfigError("cannot merge a deduplicating collector with one that keeps duplicates")
        merged = Collector(self.dedupe, duplicates=self.duplicates + other.duplicates)
        merged.count(self.tried, self.filter_stats)
        merged.count(other.tried, other.filter_stats)
        merged.by_key = dict(self.by_key)
        for candidate in other.by_key.values():
            merged.add(candidate)
        return merged

    def results(self, n: Optional[int] = None, rank_by: str = "logp") -> Results:
        """The best n (all when None), ranked, with the run's counts."""
        ranked = rank(self.by_key.values(), rank_by)
        results = Results(ranked if n is None else ranked[:n])
        results.tried, results.duplicates = self.tried, self.duplicates
        results.filter_stats = {k: FilterStats(v.seen, v.passed) for k, v in self.filter_stats.items()}
        return results
