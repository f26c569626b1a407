"""The front door: sample until enough candidates pass the filters, dedupe, rank; or check given names.

``generate`` draws names from a model in batches, sends each batch through the
filter stage, collects the survivors (one per structure, the likeliest name
kept) and ranks them by log-likelihood. ``check`` runs the filter stage over
given names. Both check every setting here, then run in this process or,
given a Dask ``client``, on its workers (chemgen.generation.cluster); the
per-batch work is chemgen.generation.core's either way.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

from chemgen.errors import ConfigError
from chemgen.filters import DEFAULT_FILTERS, Candidate, FilterStage, FilterStats
from chemgen.generation.collector import Collector, Results, SpooledResults, check_rank_by
from chemgen.generation.core import default_max_tries, model_of, survivor_batches, to_candidates
from chemgen.io.names import name_list, quoted
from chemgen.io.progress import progress_bar
from chemgen.model.config import DEFAULT_MODEL
from chemgen.model.estimator import CharRNN
from chemgen.model.sample import check_sampling_options

MAX_N = 1_000_000  # candidates one generate run may ask for (all held in memory to be ranked)
CHECK_CHUNK = 2048  # names per filter-stage batch when checking a stream


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
    spool: bool = False,
) -> Union[Results, SpooledResults]:
    """n ranked candidates that pass every filter (fewer if max_tries samples run out).

    model: a CharRNN, a shipped model's name or a file path (None: the default).
    filters: "opsin,rdkit(lipinski)", a list of specs or filter objects, or "none".
    seed or random_state (the same thing, as the rest of the API names it): the sampling seed.
    max_tries: cap on names sampled (default 20 * n + 1000).
    filter_options: options for every filter that takes them, e.g. {"offline": True}.
    grammar: keep brackets balanced while sampling.
    threads: threads sharing each sampling batch (the names of one thread, up to rounding).
    client: a dask.distributed Client: run as tasks of task_size names on its
    workers (chemgen.generation.cluster); the same seed and task_size give the same
    candidates however many workers there are.
    spool: with a client, return SpooledResults, read from a temporary file on
    access (close() them when done), so a big run need not fit in memory.
    """
    label = model_label(model)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, not {quoted(n)}")
    if n > MAX_N:
        raise ConfigError(f"n = {n:,} is more than one run holds: at most {MAX_N:,} candidates, since every "
                          f"candidate is kept in memory (about 2 KB each, 2 GB at the bound) to be deduplicated "
                          f"and ranked; run several times with different seeds")
    if max_tries is not None and (not isinstance(max_tries, int) or isinstance(max_tries, bool) or max_tries < 1):
        raise ConfigError(f"max_tries must be a positive integer, not {quoted(max_tries)}")
    seed = _one_seed(seed, random_state)
    check_rank_by(rank_by)
    if not isinstance(dedupe, bool):
        raise ConfigError(f"dedupe must be True or False, not {quoted(dedupe)}")
    check_run_options(filter_options, client, task_size)
    model = model_of(model)
    sampling = check_sampling_options(model._check_fitted(), n, random_state=seed, temperature=temperature,
                                      top_k=top_k, prefix=prefix, max_length=max_length, grammar=grammar,
                                      threads=threads)  # before OPSIN starts
    tries = max_tries or default_max_tries(n)
    if client is not None:
        from chemgen.generation.cluster import TASK_SIZE, generate_on

        spooled = generate_on(client, n, model, filters, sampling, seed, rank_by, tries, dedupe, filter_options,
                              task_size or TASK_SIZE)
        return spooled if spool else _in_memory(spooled)
    collector = Collector(dedupe)
    with FilterStage(filters, filter_options) as stage:
        bar = progress_bar(total=n, desc="generating", unit="name")
        for _ in survivor_batches(model, stage, collector, n, tries, sampling, seed):
            bar.n = min(n, len(collector))
            bar.refresh()
        bar.close()
    results = collector.results(n, rank_by)
    results.settings = {"model": label, "filters": filters_label(filters), "n": n, **sampling.as_dict(),
                        "seed": seed, "rank_by": rank_by, "max_tries": tries, "dedupe": dedupe,
                        **{f"filter option {k}": v for k, v in (filter_options or {}).items()}}
    return results


def _in_memory(spooled: SpooledResults) -> Results:
    try:
        return spooled.to_results()
    finally:
        spooled.close()


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


def check_run_options(filter_options: Any, client: Any, task_size: Any) -> None:
    """ConfigError unless filter_options is a mapping (or None), client a Dask client (or None) and task_size
    a positive integer (or None)."""
    if filter_options is not None and not isinstance(filter_options, Mapping):
        raise ConfigError(f"filter_options must be a dict such as {{'offline': True}}, not {quoted(filter_options)}")
    if client is not None and not all(hasattr(client, a) for a in ("submit", "register_plugin")):
        raise ConfigError(f"client must be a dask.distributed Client, not {quoted(client)}")
    if task_size is not None and (not isinstance(task_size, int) or isinstance(task_size, bool) or task_size < 1):
        raise ConfigError(f"task_size must be a positive integer, not {quoted(task_size)}")


def _one_seed(seed: Optional[int], random_state: Optional[int]) -> Optional[int]:
    """The sampling seed, given as seed= or random_state= (not both, unless equal)."""
    if seed is not None and random_state is not None and seed != random_state:
        raise ConfigError(f"give seed or random_state, not both ({quoted(seed)} and {quoted(random_state)})")
    return seed if seed is not None else random_state


def check(names: Sequence[str], filters: Any = DEFAULT_FILTERS, model: Any = None,
          filter_options: Optional[Mapping[str, Any]] = None, client: Any = None,
          task_size: Optional[int] = None, spool: bool = False) -> Union[Results, SpooledResults]:
    """Run the filter stage over names, in input order; every name gets its verdicts.

    With a model, candidates also carry logp, logp_per_char and the training flag.
    With a dask.distributed client, chunks of task_size names run on its workers
    (spool: as in :func:`generate`; names may then be any iterable, read as the run goes).
    """
    check_run_options(filter_options, client, task_size)
    if client is not None:
        from chemgen.generation.cluster import TASK_SIZE, check_on

        spooled = check_on(client, names if spool else name_list(names), filters,
                           model_of(model) if model is not None else None, filter_options, task_size or TASK_SIZE)
        return spooled if spool else _in_memory(spooled)
    names = name_list(names)
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
