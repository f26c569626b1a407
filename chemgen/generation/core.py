"""The per-batch core that every generation path shares, in this process or on a Dask worker.

``survivor_batches`` samples a batch, sends it through the filter stage and
collects the survivors, growing the batch with the pass rate seen so far;
``generate_shard`` runs it for a fixed number of tries (one shard of a split
run); ``to_candidates`` turns given names into (scored) candidates.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

import numpy as np

from chemgen.filters import DEFAULT_FILTERS, Candidate, FilterStage, FilterStats
from chemgen.generation.collector import Collector
from chemgen.model.config import SamplingConfig
from chemgen.model.estimator import CharRNN, load
from chemgen.model.sample import Sample, SamplingFailed, check_sampling_options, draw_names
from chemgen.model.score import score_names

MIN_BATCH, MAX_BATCH = 64, 4096
NO_END_LIMIT = 1000  # names sampled without one ending within max_length before generation gives up


def model_of(model: Any) -> CharRNN:
    """A CharRNN from a CharRNN, a shipped model's name, a file path, or None (the default)."""
    return model if isinstance(model, CharRNN) else load(model)


def default_max_tries(n: int) -> int:
    """Names a run samples at most when not told: enough for a pass rate of about 5%."""
    return 20 * n + 1000


def candidates_of(samples: Sequence[Sample]) -> list[Candidate]:
    """Sampled names as candidates for the filter stage."""
    return [Candidate(s.name, s.logp, s.logp_per_char, s.in_training) for s in samples]


def survivor_batches(model: CharRNN, stage: FilterStage, collector: Collector, n: Optional[int], max_tries: int,
                     sampling: SamplingConfig, seed: Optional[int]) -> Iterator[list[Candidate]]:
    """Sample, filter and collect batch by batch, yielding each batch's survivors.

    Stops when the collector holds n candidates (None: never) or max_tries
    names were sampled (ended or not). Batches grow with the pass rate seen
    so far. SamplingFailed when no name ends within max_length at all.
    """
    learned = model._check_fitted()
    check_sampling_options(learned, 0, random_state=seed, **sampling.as_dict())
    rng = np.random.default_rng(seed)
    ended = 0
    while (n is None or len(collector) < n) and collector.tried < max_tries:
        before = {k: FilterStats(v.seen, v.passed) for k, v in stage.stats.items()}
        want = (n - len(collector)) if n is not None else MAX_BATCH
        batch = min(max_tries - collector.tried, max(MIN_BATCH, int(want / _pass_rate(stage.stats) * 1.3) + 1),
                    MAX_BATCH)
        samples, drawn, survivors = _sample_and_filter(learned, stage, batch, np.random.default_rng(
            int(rng.integers(2**63))), sampling)
        ended += len(samples)
        if not ended and (collector.tried + drawn >= min(max_tries, NO_END_LIMIT)):
            raise SamplingFailed(f"none of {collector.tried + drawn} sampled names ended within --max-length "
                                 f"{sampling.max_length}: raise --max-length")
        collector.count(drawn, _difference(stage.stats, before))
        collector.add_all(survivors)
        yield survivors


def _sample_and_filter(learned: Any, stage: FilterStage, batch: int, rng: np.random.Generator,
                       sampling: SamplingConfig) -> tuple[list[Sample], int, list[Candidate]]:
    """A batch of samples, how many were drawn, and the survivors of the filter stage.

    When the stage can take a stream, names go to the filters as they end, so OPSIN and RDKit work on
    the first names while the sampler still writes the longer ones; the verdicts are the same.
    """
    stream = stage.stream()
    if stream is None:
        samples, drawn = draw_names(learned, batch, rng=rng, **sampling.as_dict())
        return samples, drawn, stage.run(candidates_of(samples), keep_failed=False)
    with stream:
        samples, drawn = draw_names(learned, batch, rng=rng, on_names=lambda s: stream.put(candidates_of(s)),
                                    **sampling.as_dict())
        return samples, drawn, stream.finish()


def _difference(after: dict[str, FilterStats], before: dict[str, FilterStats]) -> dict[str, FilterStats]:
    return {k: FilterStats(v.seen - before.get(k, FilterStats()).seen, v.passed - before.get(k, FilterStats()).passed)
            for k, v in after.items()}


def _pass_rate(stats: dict[str, FilterStats]) -> float:
    """Share of sampled names that passed every filter so far (optimistic start: 1.0)."""
    rate = 1.0
    for s in stats.values():
        rate *= max(s.pass_rate, 0.02) if s.seen else 1.0
    return rate


def generate_shard(model: Any, tries: int, seed: int, filters: Any = DEFAULT_FILTERS, dedupe: bool = True,
                   filter_options: Optional[dict[str, Any]] = None, stage: Optional[FilterStage] = None,
                   **sampling: Any) -> Collector:
    """Every survivor of ``tries`` sampled names (one shard of a split run); merge shards with Collector.merge.

    stage: an entered filter stage to use (a Dask worker keeps one per thread); else one is opened here.
    """
    model, collector, config = model_of(model), Collector(dedupe), SamplingConfig(**sampling)
    if stage is not None:
        for _ in survivor_batches(model, stage, collector, None, tries, config, seed):
            pass
        return collector
    with FilterStage(filters, filter_options) as own_stage:
        return generate_shard(model, tries, seed, dedupe=dedupe, stage=own_stage, **sampling)


def to_candidates(names: Sequence[str], model: Optional[CharRNN]) -> list[Candidate]:
    """Candidates for names, scored (and training-flagged) when a model is given."""
    if model is None:
        return [Candidate(name=name) for name in names]
    flags = model.in_training(list(names))
    return [
        Candidate(name=r.name, logp=r.logp, logp_per_char=r.logp_per_char, in_training=bool(flag))
        for r, flag in zip(score_names(model.learned_, names), flags)
    ]
