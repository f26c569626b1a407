"""The whole pipeline: sample until enough candidates pass the filters, dedupe, rank.

``generate`` draws names from a model in batches, sends each batch through the
filter stage, collects the survivors (one per structure, the likeliest name
kept) and ranks them by log-likelihood. ``generate_shard`` does the same for a
fixed number of tries and returns the collector, so shards with their own
seeds merge into one result. ``check`` runs the filter stage over given names.
Both take a Dask ``client`` to run on a cluster instead (chemgen.distributed).
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from chemgen.errors import ConfigError
from chemgen.filters import DEFAULT_FILTERS, Candidate, Collector, FilterStage, FilterStats, Results, check_rank_by
from chemgen.io.names import name_list
from chemgen.io.progress import progress_bar
from chemgen.model.estimator import DEFAULT_MODEL, CharRNN, load
from chemgen.model.sample import Sample, SamplingFailed, check_sampling_options, draw_names
from chemgen.model.score import score_names

MIN_BATCH, MAX_BATCH = 64, 4096
MAX_N = 1_000_000  # candidates one generate run may ask for (all held in memory to be ranked)
NO_END_LIMIT = 1000  # names sampled without one ending within max_length before generation gives up
CHECK_CHUNK = 2048  # names per filter-stage batch when checking a stream


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
    random_state: Optional[int] = None,
    grammar: bool = True,
    threads: int = 1,
    client: Any = None,
    task_size: Optional[int] = None,
) -> Results:
    """n ranked candidates that pass every filter (fewer if max_tries samples run out).

    model: a CharRNN, a shipped model's name or a file path (None: the default).
    filters: "opsin,rdkit(lipinski)", a list of specs or filter objects, or "none".
    seed or random_state (the same thing, as the rest of the API names it): the sampling seed.
    max_tries: cap on names sampled (default 20 * n + 1000).
    filter_options: options for every filter that takes them, e.g. {"offline": True}.
    grammar: keep brackets balanced while sampling.
    threads: threads sharing each sampling batch (the names of one thread, up to rounding).
    client: a dask.distributed Client: run as tasks of task_size names on its
    workers (chemgen.distributed); the same seed and task_size give the same
    candidates however many workers there are.
    """
    label = model_label(model)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, not {n!r}")
    if n > MAX_N:
        raise ConfigError(f"n = {n:,} is more than one run holds: at most {MAX_N:,} candidates, since every "
                          f"candidate is kept in memory (about 2 KB each, 2 GB at the bound) to be deduplicated "
                          f"and ranked; run several times with different seeds")
    if max_tries is not None and (not isinstance(max_tries, int) or isinstance(max_tries, bool) or max_tries < 1):
        raise ConfigError(f"max_tries must be a positive integer, not {max_tries!r}")
    seed = _one_seed(seed, random_state)
    check_rank_by(rank_by)
    model = model_of(model)
    sampling = dict(temperature=temperature, top_k=top_k, prefix=prefix, max_length=max_length, grammar=grammar,
                    threads=threads)
    check_sampling_options(model._check_fitted(), n, random_state=seed, **sampling)  # before OPSIN starts
    if client is not None:
        from chemgen.distributed import TASK_SIZE, generate_on

        return generate_on(client, n, model, filters, sampling, seed, rank_by, max_tries, dedupe, filter_options,
                           task_size or TASK_SIZE).to_results()
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


def _one_seed(seed: Optional[int], random_state: Optional[int]) -> Optional[int]:
    """The sampling seed, given as seed= or random_state= (not both, unless equal)."""
    if seed is not None and random_state is not None and seed != random_state:
        raise ConfigError(f"give seed or random_state, not both ({seed!r} and {random_state!r})")
    return seed if seed is not None else random_state


def survivor_batches(model: CharRNN, stage: FilterStage, collector: Collector, n: Optional[int], max_tries: int,
                     sampling: dict[str, Any], seed: Optional[int]) -> Iterator[list[Candidate]]:
    """Sample, filter and collect batch by batch, yielding each batch's survivors.

    Stops when the collector holds n candidates (None: never) or max_tries
    names were sampled (ended or not). Batches grow with the pass rate seen
    so far. SamplingFailed when no name ends within max_length at all.
    """
    learned = model._check_fitted()
    check_sampling_options(learned, 0, random_state=seed, **sampling)
    rng = np.random.default_rng(seed)
    ended = 0
    while (n is None or len(collector) < n) and collector.tried < max_tries:
        want = (n - len(collector)) if n is not None else MAX_BATCH
        batch = min(max_tries - collector.tried, max(MIN_BATCH, int(want / _pass_rate(stage.stats) * 1.3) + 1),
                    MAX_BATCH)
        samples, drawn = draw_names(learned, batch, rng=np.random.default_rng(int(rng.integers(2**63))), **sampling)
        ended += len(samples)
        if not ended and (collector.tried + drawn >= min(max_tries, NO_END_LIMIT)):
            raise SamplingFailed(f"none of {collector.tried + drawn} sampled names ended within --max-length "
                                 f"{sampling['max_length']}: raise --max-length")
        before = {k: FilterStats(v.seen, v.passed) for k, v in stage.stats.items()}
        survivors = stage.run(candidates_of(samples), keep_failed=False)
        collector.count(drawn, _difference(stage.stats, before))
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
          filter_options: Optional[Mapping[str, Any]] = None, client: Any = None,
          task_size: Optional[int] = None) -> Results:
    """Run the filter stage over names, in input order; every name gets its verdicts.

    With a model, candidates also carry logp, logp_per_char and the training flag.
    With a dask.distributed client, chunks of task_size names run on its workers.
    """
    names = name_list(names)
    if client is not None:
        from chemgen.distributed import TASK_SIZE, check_on

        return check_on(client, names, filters, model_of(model) if model is not None else None, filter_options,
                        task_size or TASK_SIZE).to_results()
    stats: dict[str, FilterStats] = {}
    results = Results(c for chunk in check_stream(names, filters, model, filter_options, stats) for c in chunk)
    results.tried, results.filter_stats = len(results), stats
    results.settings = {"filters": filters_label(filters)}
    if model is not None:
        results.settings["model"] = model_label(model)
    return results


def check_stream(names: Iterable[str], filters: Any = DEFAULT_FILTERS, model: Any = None,
                 filter_options: Optional[Mapping[str, Any]] = None, stats: Optional[dict[str, FilterStats]] = None,
                 chunk: Optional[int] = None) -> Iterator[list[Candidate]]:
    """check() for a stream of names: checked candidates chunk by chunk through one filter stage.

    stats, when given, receives each filter's seen / passed counts as the run goes;
    chunk: names per batch (default CHECK_CHUNK).
    """
    model = model_of(model) if model is not None else None
    names = iter(names)
    with FilterStage(filters, filter_options) as stage:
        if stats is not None:
            stage.stats = stats
        while True:
            block = list(islice(names, chunk or CHECK_CHUNK))
            if not block:
                return
            candidates = to_candidates(block, model)
            stage.run(candidates, keep_failed=True)
            yield candidates


def to_candidates(names: Sequence[str], model: Optional[CharRNN]) -> list[Candidate]:
    """Candidates for names, scored (and training-flagged) when a model is given."""
    if model is None:
        return [Candidate(name=name) for name in names]
    flags = model.in_training(list(names))
    return [
        Candidate(name=r.name, logp=r.logp, logp_per_char=r.logp_per_char, in_training=bool(flag))
        for r, flag in zip(score_names(model.learned_, names), flags)
    ]
