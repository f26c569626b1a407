"""Collecting survivors: one per structure (the likeliest name kept), ranked, mergeable.

A run feeds every candidate that passed the filters to a :class:`Collector`;
``results(n)`` ranks and cuts. Collectors merge: the merge of two partial runs
(shards with their own seeds, Dask tasks) equals one collector fed both, so
generation can be split and streamed.

Where the kept candidates live is the collector's store: in memory
(:class:`MemoryStore`, the default) or pickled to a temporary file
(:class:`SpoolStore`, for the client of a cluster run, whose memory then grows
by a few hundred bytes per structure). Dedupe and ranking are one rule either
way: they need only the name and log-likelihoods, which a store's reference keeps.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

from chemgen.errors import ConfigError
from chemgen.filters.contract import Candidate, FilterStats
from chemgen.io.names import quoted

RANK_KEYS: dict[str, Callable[[Candidate], Optional[float]]] = {
    "logp": lambda c: c.logp,
    "logp-per-char": lambda c: c.logp_per_char,
}


def check_rank_by(rank_by: str) -> None:
    if not isinstance(rank_by, str) or rank_by not in RANK_KEYS:
        raise ConfigError(f"rank-by must be one of {', '.join(RANK_KEYS)}, not {quoted(rank_by)}")


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
        from chemgen.output.frames import to_frame

        return to_frame(self, mols=mols)

    def _repr_html_(self) -> str:
        """Notebook display: the summary, then structures and key columns of the first 50."""
        from chemgen.output.html import results_html

        return results_html(self)


class MemoryStore:
    """Kept candidates as they are, in memory."""

    def put(self, candidate: Candidate) -> Candidate:
        return candidate

    def get(self, ref: Candidate) -> Candidate:
        return ref

    def close(self) -> None:
        pass


class _Ref:
    """What a spooled collector keeps of a candidate: enough to dedupe and rank, and where the rest lies."""

    __slots__ = ("name", "logp", "logp_per_char", "offset")

    def __init__(self, name: str, logp: Optional[float], logp_per_char: Optional[float], offset: int):
        self.name, self.logp, self.logp_per_char, self.offset = name, logp, logp_per_char, offset


class SpoolStore:
    """Kept candidates pickled to an anonymous temporary file, read back by offset."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="chemgen-spool-")

    def put(self, candidate: Candidate) -> _Ref:
        self.file.seek(0, os.SEEK_END)
        offset = self.file.tell()
        pickle.dump(candidate, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        return _Ref(candidate.name, candidate.logp, candidate.logp_per_char, offset)

    def get(self, ref: _Ref) -> Candidate:
        self.file.seek(ref.offset)
        return pickle.load(self.file)

    def close(self) -> None:
        self.file.close()


Ref = Union[Candidate, _Ref]


@dataclass
class Collector:
    """Survivors so far: with ``dedupe``, one per structure (InChIKey, else name), the likeliest kept."""

    dedupe: bool = True
    by_key: dict[Any, Ref] = field(default_factory=dict)
    duplicates: int = 0
    tried: int = 0  # names that went into the filter stage
    filter_stats: dict[str, FilterStats] = field(default_factory=dict)
    store: Any = field(default_factory=MemoryStore, repr=False)

    def __len__(self) -> int:
        return len(self.by_key)

    def add(self, candidate: Candidate) -> None:
        if not self.dedupe:
            self.by_key[(candidate.name, len(self.by_key))] = self.store.put(candidate)
            return
        key = structure_key(candidate)
        kept = self.by_key.get(key)
        if kept is not None:
            self.duplicates += 1
            if not _better(candidate, kept):
                return
        self.by_key[key] = self.store.put(candidate)

    def add_all(self, candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            self.add(candidate)

    def count(self, tried: int, stats: dict[str, FilterStats]) -> None:
        """Record names tried and filter counts of a batch (or another run)."""
        self.tried += tried
        for name, s in stats.items():
            self.filter_stats.setdefault(name, FilterStats()).add(s)

    def merge_in(self, other: "Collector") -> None:
        """Fold another run's collector into this one (its counts, then its candidates)."""
        if self.dedupe != other.dedupe:
            raise ConfigError("cannot merge a deduplicating collector with one that keeps duplicates")
        self.duplicates += other.duplicates
        self.count(other.tried, other.filter_stats)
        self.add_all(other.store.get(ref) for ref in other.by_key.values())

    def merge(self, other: "Collector") -> "Collector":
        """A new (in-memory) collector equal to one run over both inputs."""
        merged = Collector(self.dedupe)
        merged.merge_in(self)
        merged.merge_in(other)
        return merged

    def ranked(self, n: Optional[int] = None, rank_by: str = "logp") -> list[Ref]:
        """What the store holds of the best n (all when None), best first."""
        refs = rank(self.by_key.values(), rank_by)
        return refs if n is None else refs[:n]

    def results(self, n: Optional[int] = None, rank_by: str = "logp") -> Results:
        """The best n (all when None), ranked, in memory, with the run's counts."""
        results = Results(self.store.get(ref) for ref in self.ranked(n, rank_by))
        results.tried, results.duplicates = self.tried, self.duplicates
        results.filter_stats = {k: FilterStats(v.seen, v.passed) for k, v in self.filter_stats.items()}
        return results

    def spooled_results(self, n: Optional[int] = None, rank_by: str = "logp") -> "SpooledResults":
        """The best n, ranked, read from the store as they are used (the store now belongs to the results)."""
        out = SpooledResults(self.store, self.ranked(n, rank_by))
        self.by_key = {}  # the ranking keeps what it needs
        out.tried, out.duplicates = self.tried, self.duplicates
        out.filter_stats = self.filter_stats
        return out


class SpooledResults(SequenceABC):
    """Ranked candidates read from a store on access: a read-only list for writers, with Results' counts."""

    tried: int = 0
    duplicates: int = 0
    tasks: int = 0  # tasks whose shards make up the result (generate on a cluster)

    def __init__(self, store: Any, refs: list[Ref]):
        self.store, self.refs = store, refs
        self.filter_stats: dict[str, FilterStats] = {}

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.store.get(ref) for ref in self.refs[index]]
        return self.store.get(self.refs[index])

    def __iter__(self) -> Iterator[Candidate]:
        for ref in self.refs:
            yield self.store.get(ref)

    summary = Results.summary

    def to_results(self) -> Results:
        """Every candidate in memory, as a :class:`Results` list."""
        results = Results(list(self))
        results.tried, results.duplicates, results.filter_stats = self.tried, self.duplicates, self.filter_stats
        return results

    def close(self) -> None:
        self.store.close()
