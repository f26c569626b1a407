"""The whole pipeline: sample until enough candidates pass the filters, dedupe, rank.

``generate`` draws names from a model in batches, sends each batch through the
filter stage, collects the survivors (one per structure, the likeliest name
kept) and ranks them by log-likelihood. ``generate_shard`` does the same for a
fixed number of tries and returns the collector, so shards with their own
seeds merge into one result. ``check`` runs the filter stage over given names.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError
from chemgen.filters import DEFAULT_FILTERS, Candidate, Collector, FilterStage, FilterStats, Results, check_rank_by
from chemgen.io.progress import progress_bar
from chemgen.model.estimator import DEFAULT_MODEL, CharRNN, load
from chemgen.model.sample import Sample
from chemgen.model.score import score_names

MIN_BATCH, MAX_BATCH = 64, 4096


def model_of(model: Any) -> CharRNN:
    """A CharRNN from a CharRNN, a shipped model's name, a file path, or None (the default)."""
    return model if isinstance(model, CharRNN) else load(model)


def candidates_of(samples: Sequence[Sample]) -> list[Candidate]:
    """Sampled names as candidates for the filter stage."""
    return [Candidate(s.name, s.logp, s.logp_per_char, s.in_training) for s in samples]


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
    filter_options: Optional[Mapping[str, Any]] = None,
    grammar: bool = True,
) -> Results:
    """n ranked candidates that pass every filter (fewer if max_tries samples run out).

    model: a CharRNN, a shipped model's name or a file path (None: the default).
    filters: "opsin,rdkit(lipinski)", a list of specs or filter objects, or "none".
    max_tries: cap on names sampled (default 20 * n + 1000).
    filter_options: options for every filter that takes them, e.g. {"offline": True}.
    grammar: keep brackets balanced while sampling.
    """
    label, model = model_label(model), model_of(model)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, not {n!r}")
    check_rank_by(rank_by)
    sampling = dict(temperature=temperature, top_k=top_k, prefix=prefix, max_length=max_length, grammar=grammar)
    collector = Collector(dedupe)
    with FilterStage(filters, filter_options) as stage:
        bar = progress_bar(total=n, desc="generating", unit="name")
        for _ in survivor_batches(model, stage, collector, n, max_tries or 20 * n + 1000, sampling, seed):
            bar.n = min(n, len(collector))
            bar.refresh()
        bar.close()
    results = collector.results(n, rank_by)
    results.settings = {"model": label, "filters": filters_label(filters), "n": n, **sampling, "seed": seed,
                        "rank_by": rank_by, "max_tries": max_tries or 20 * n + 1000, "dedupe": dedupe,
                        **{f"filter option {k}": v for k, v in (filter_options or {}).items()}}
    return results


def model_label(model: Any) -> str:
    """How a run names its model in reports: the file or shipped name as given, or the estimator."""
    if model is None:
        return f"{DEFAULT_MODEL} (shipped default)"
    return repr(model) if isinstance(model, CharRNN) else str(model)


def filters_label(filters: Any) -> str:
    """A filter spec as text: the spec string, or the names of filter objects joined by commas."""
    if isinstance(filters, str):
        return filters
    return ",".join(f if isinstance(f, str) else str(getattr(f, "name", f)) for f in filters)


def survivor_batches(model: CharRNN, stage: FilterStage, collector: Collector, n: Optional[int], max_tries: int,
                     sampling: dict[str, Any], seed: Optional[int]) -> Iterator[list[Candidate]]:
    """Sample, filter and collect batch by batch, yielding each batch's survivors.

    Stops when the collector holds n candidates (None: never) or max_tries
    names were sampled. Batches grow with the pass rate seen so far.
    """
    rng = np.random.default_rng(seed)
    while (n is None or len(collector) < n) and collector.tried < max_tries:
        want = (n - len(collector)) if n is not None else MAX_BATCH
        batch = min(max_tries - collector.tried, max(MIN_BATCH, int(want / _pass_rate(stage.stats) * 1.3) + 1),
                    MAX_BATCH)
        samples = model.sample(batch, random_state=int(rng.integers(2**63)), **sampling)
        before = {k: FilterStats(v.seen, v.passed) for k, v in stage.stats.items()}
        survivors = stage.run(candidates_of(samples), keep_failed=False)
        collector.count(len(samples), _difference(stage.stats, before))
        collector.add_all(survivors)
        yield survivors


def _difference(after: dict[str, FilterStats], before: dict[str, FilterStats]) -> dict[str, FilterStats]:
    return {k: FilterStats(v.seen - before.get(k, FilterStats()).seen, v.passed - before.get(k, FilterStats()).passed)
            for k, v in after.items()}


def generate_shard(model: Any, tries: int, seed: int, filters: Any = DEFAULT_FILTERS, dedupe: bool = True,
                   filter_options: Optional[Mapping[str, Any]] = None, **sampling: Any) -> Collector:
    """Every survivor of ``tries`` sampled names (one shard of a split run); merge shards with Collector.merge."""
    model = model_of(model)
    collector = Collector(dedupe)
    options = dict(dict(temperature=1.0, top_k=None, prefix="", max_length=200, grammar=True), **sampling)
    with FilterStage(filters, filter_options) as stage:
        for _ in survivor_batches(model, stage, collector, None, tries, options, seed):
            pass
    return collector


def _pass_rate(stats: dict[str, FilterStats]) -> float:
    """Share of sampled names that passed every filter so far (optimistic start: 1.0)."""
    rate = 1.0
    for s in stats.values():
        rate *= max(s.pass_rate, 0.02) if s.seen else 1.0
    return rate


def check(names: Sequence[str], filters: Any = DEFAULT_FILTERS, model: Any = None,
          filter_options: Optional[Mapping[str, Any]] = None) -> Results:
    """Run the filter stage over names, in input order; every name gets its verdicts.

    With a model, candidates also carry logp, logp_per_char and the training flag.
    """
    candidates = to_candidates(names, model_of(model) if model is not None else None)
    with FilterStage(filters, filter_options) as stage:
        stage.run(candidates, keep_failed=True)
    results = Results(candidates)
    results.tried, results.filter_stats = len(candidates), stage.stats
    results.settings = {"filters": filters_label(filters)}
    if model is not None:
        results.settings["model"] = model_label(model)
    return results


def to_candidates(names: Sequence[str], model: Optional[CharRNN]) -> list[Candidate]:
    """Candidates for names, scored (and training-flagged) when a model is given."""
    if model is None:
        return [Candidate(name=name) for name in names]
    flags = model.in_training(list(names))
    return [
        Candidate(name=r.name, logp=r.logp, logp_per_char=r.logp_per_char, in_training=bool(flag))
        for r, flag in zip(score_names(model.learned_, names), flags)
    ]
