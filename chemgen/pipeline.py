"""The whole pipeline: sample until enough candidates pass the filters, dedupe, rank.

``generate`` draws names from a model in batches, sends each batch through the
filter stage, keeps the survivors, drops repeated structures (same InChIKey,
or same name when no structure is known) keeping the likeliest name, and ranks
by log-likelihood. ``check`` runs the filter stage over a given list of names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError
from chemgen.filters import Candidate, FilterStats, apply_filters, build_filters, close_filters, prepare_filters
from chemgen.model import CharRNN, load
from chemgen.progress import progress_bar
from chemgen.score import score_names

DEFAULT_FILTERS = "opsin,rdkit"
RANK_KEYS = {"logp": lambda c: c.logp, "logp-per-char": lambda c: c.logp_per_char}


class Results(list):
    """Ranked candidates (a list), with how many were tried and each filter's pass counts."""

    tried: int = 0
    filter_stats: dict[str, FilterStats]
    duplicates: int = 0

    def summary(self) -> str:
        """One line: tried, passed, and the pass rate of each filter."""
        rates = ", ".join(f"{name} {s.passed}/{s.seen}" for name, s in self.filter_stats.items())
        return f"tried {self.tried}, kept {len(self)} (duplicates dropped {self.duplicates})" + (f"; passed {rates}" if rates else "")


@dataclass
class _Collector:
    """Survivors so far: with ``dedupe``, one per structure (or name), the likeliest kept."""

    dedupe: bool = True
    by_key: dict[Any, Candidate] = field(default_factory=dict)
    duplicates: int = 0

    def add(self, candidate: Candidate) -> None:
        if not self.dedupe:
            self.by_key[len(self.by_key)] = candidate
            return
        key = candidate.inchikey or f"name:{candidate.name}"
        kept = self.by_key.get(key)
        if kept is not None:
            self.duplicates += 1
            if _logp(candidate) <= _logp(kept):
                return
        self.by_key[key] = candidate


def _logp(candidate: Candidate) -> float:
    return candidate.logp if candidate.logp is not None else float("-inf")


def check_rank_by(rank_by: str) -> None:
    if rank_by not in RANK_KEYS:
        raise ConfigError(f"rank-by must be one of {', '.join(RANK_KEYS)}, not {rank_by!r}")


def rank(candidates: Iterable[Candidate], rank_by: str = "logp") -> list[Candidate]:
    """Candidates sorted best first by logp or logp-per-char (unscored last)."""
    check_rank_by(rank_by)
    key = RANK_KEYS[rank_by]
    return sorted(candidates, key=lambda c: -key(c) if key(c) is not None else float("inf"))


def _model_of(model: Any) -> CharRNN:
    return model if isinstance(model, CharRNN) else load(model)


def generate(
    n: int = 20,
    model: Any = None,
    filters: Any = DEFAULT_FILTERS,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    prefix: str = "",
    max_length: int = 200,
    seed: Optional[int] = None,
    rank_by: str = "logp",
    max_tries: Optional[int] = None,
    dedupe: bool = True,
) -> Results:
    """n ranked candidates that pass every filter (fewer if max_tries samples run out).

    model: a CharRNN, a shipped model's name or a file path (None: the default).
    filters: "opsin,rdkit(lipinski)", a list of specs or filter objects, or "none".
    max_tries: cap on names sampled (default 20 * n + 1000).
    """
    model = _model_of(model)
    if not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, not {n!r}")
    check_rank_by(rank_by)
    built = build_filters(filters)
    try:
        prepare_filters(built)
        return _generate(model, n, built, dict(temperature=temperature, top_k=top_k, prefix=prefix,
                         max_length=max_length), seed, rank_by, max_tries or 20 * n + 1000, dedupe)
    finally:
        close_filters(built)


def _generate(model: CharRNN, n: int, filters: list, sampling: dict, seed, rank_by: str, max_tries: int,
              dedupe: bool) -> Results:
    rng = np.random.default_rng(seed)
    stats: dict[str, FilterStats] = {}
    collector, tried = _Collector(dedupe), 0
    bar = progress_bar(total=n, desc="generating", unit="name")
    while len(collector.by_key) < n and tried < max_tries:
        want = n - len(collector.by_key)
        batch = min(max_tries - tried, max(64, int(want / _pass_rate(stats) * 1.3) + 1), 4096)
        candidates = model.sample(batch, random_state=int(rng.integers(2**63)), **sampling)
        tried += len(candidates)
        for candidate in apply_filters(filters, candidates, stats, keep_failed=False):
            collector.add(candidate)
        bar.n = min(n, len(collector.by_key))
        bar.refresh()
    bar.close()
    results = Results(rank(collector.by_key.values(), rank_by)[:n])
    results.tried, results.filter_stats, results.duplicates = tried, stats, collector.duplicates
    return results


def _pass_rate(stats: dict[str, FilterStats]) -> float:
    """Share of sampled names that passed every filter so far (optimistic start: 1.0)."""
    rate = 1.0
    for s in stats.values():
        rate *= max(s.pass_rate, 0.02) if s.seen else 1.0
    return rate


def check(names: Sequence[str], filters: Any = DEFAULT_FILTERS, model: Any = None) -> Results:
    """Run the filter stage over names, in input order; every name gets its verdicts.

    With a model, candidates also carry logp, logp_per_char and the training flag.
    """
    candidates = to_candidates(names, _model_of(model) if model is not None else None)
    built = build_filters(filters)
    stats: dict[str, FilterStats] = {}
    try:
        apply_filters(built, candidates, stats, keep_failed=True)
    finally:
        close_filters(built)
    results = Results(candidates)
    results.tried, results.filter_stats = len(candidates), stats
    return results


def to_candidates(names: Sequence[str], model: Optional[CharRNN]) -> list[Candidate]:
    """Candidates for names, scored (and training-flagged) when a model is given."""
    if model is None:
        return [Candidate(name=name) for name in names]
    flags = model.in_training(list(names))
    return [
        Candidate(name=r.name, logp=r.logp, logp_per_char=r.logp_per_char, in_training=bool(flag))
        for r, flag in zip(score_names(model, names), flags)
    ]
