"""Scale out on Dask: generate and check names with the workers of a ``dask.distributed`` cluster.

    from dask.distributed import Client
    client = Client("tcp://head:8786")                         # or Client(LocalCluster(...))
    chemgen.generate(n=100_000, filters="opsin,rdkit", seed=0, client=client)   # the front door checks, then runs here

A run is split into tasks of ``task_size`` names (2,000 by default: a task's
overhead is about a millisecond, a few thousand names take seconds). Task i
samples with its own seed, ``SeedSequence(seed, spawn_key=(i,))``, so a run is
reproducible for a given seed and task size, whatever the number of workers.

Each worker gets the run's model and filter settings once, in a
:class:`RunPlugin` (a ``WorkerPlugin``); each worker thread keeps one filter
stage (one OPSIN process) for the run. Shards come back as they finish
(``as_completed``) and are merged in task order, so the run stops at the
same task however the work was spread: the result is the merge of the
shards of tasks 0..K-1, where K is the first count whose merge holds ``n``
candidates (or ``max_tries`` ran out). A worker that dies loses only its
unfinished tasks; Dask runs them again elsewhere.

The client keeps, per distinct structure, only what dedupe and ranking need
(key, name, log-likelihoods, where the full candidate lies) and spools the
candidates to a temporary file (a collector with a :class:`SpoolStore`), so its
memory grows by a few hundred bytes per candidate, not by the candidates themselves.

Settings are checked by the front door (chemgen.generation.pipeline) before a
run reaches this module.

A filter class with ``shared = True`` (the PubChem filter) runs once per
cluster: one worker hosts it as a Dask actor, and every worker's stage sends
it its batches (:class:`SharedFilter`). One process therefore keeps the
remote service's rate limits for the whole cluster and keeps one cache.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Optional

import numpy as np

from chemgen.errors import ChemgenError, ConfigError
from chemgen.filters import Candidate, FilterStage, FilterStats
from chemgen.filters.loading import discover_filters, find_entry, parse_spec, spec_list
from chemgen.filters.stage import DEFAULT_FILTERS, run_filter
from chemgen.generation.collector import Collector, SpooledResults, SpoolStore
from chemgen.generation.core import generate_shard, to_candidates
from chemgen.io.names import quoted
from chemgen.io.progress import progress_bar
from chemgen.model.config import SamplingConfig
from chemgen.model.estimator import CharRNN

TASK_SIZE = 2000  # names per task
SCHEDULER_TIMEOUT = 20.0  # seconds to reach a --scheduler and hear it answer as one
SHARED_ENV = ("CHEMGEN_PUBCHEM_URL", "CHEMGEN_CACHE_DIR", "CHEMGEN_OFFLINE")  # the client's, for shared filters

try:  # the optional extra: chemgen[dask]
    from distributed import WorkerPlugin, as_completed, get_worker
except ImportError:  # pragma: no cover - exercised only without the extra
    WorkerPlugin = object  # type: ignore[assignment,misc]
    as_completed = get_worker = None  # type: ignore[assignment]


def require_dask() -> None:
    if get_worker is None:
        raise ChemgenError("--workers and --scheduler need Dask: pip install 'chemgen[dask]'")


# ---------------------------------------------------------------- the cluster


@contextlib.contextmanager
def cluster_client(workers: Optional[int] = None, scheduler: Optional[str] = None) -> Iterator[Any]:
    """A Client for ``--workers N`` (a LocalCluster of N one-thread processes) or ``--scheduler ADDRESS``.

    Yields None when neither is given (the run stays in this process).
    """
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise ConfigError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    require_dask()
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT}s")
        except (OSError, TimeoutError) as exc:
            raise ChemgenError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client


def check_scheduler(address: str) -> None:
    """ChemgenError within SCHEDULER_TIMEOUT unless ``address`` answers Dask's identity call as a scheduler
    (Dask's own client waits without end on a listener that never answers, and reads an HTTP reply as sizes)."""
    import asyncio

    from chemgen.io.names import printable

    shown = printable(address, 80)
    try:
        kind = asyncio.run(asyncio.wait_for(_identity(address), SCHEDULER_TIMEOUT))
    except ValueError as exc:
        raise ChemgenError(f"--scheduler {shown}: not a Dask address ({printable(str(exc), 160)})") from None
    except (asyncio.TimeoutError, TimeoutError):
        raise ChemgenError(f"--scheduler {shown}: no Dask scheduler answered within {SCHEDULER_TIMEOUT:g} s "
                           f"(is one listening there?)") from None
    except OSError as exc:
        raise ChemgenError(f"cannot reach the Dask scheduler at {shown}: {printable(str(exc), 160)}") from None
    except Exception as exc:  # MemoryError, a decoding error: something else answered
        raise ChemgenError(f"--scheduler {shown}: not a Dask scheduler (it answered something else: "
                           f"{type(exc).__name__})") from None
    if kind != "Scheduler":
        raise ChemgenError(f"--scheduler {shown}: not a Dask scheduler (it says it is {printable(str(kind), 40)})")


async def _identity(address: str) -> Any:
    """The ``type`` a Dask server at ``address`` gives for itself."""
    from distributed.comm import connect

    comm = await connect(address, timeout=SCHEDULER_TIMEOUT)
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    return reply.get("type") if isinstance(reply, dict) else type(reply).__name__


def task_seed(entropy: int, index: int) -> int:
    """Task ``index``'s seed: the first 63 bits of ``SeedSequence(entropy, spawn_key=(index,))``.

    That is the task's child of ``SeedSequence(entropy).spawn(...)``; it depends
    on the run's seed and the task's index only, not on which worker runs it.
    """
    return int(np.random.SeedSequence(entropy, spawn_key=(index,)).generate_state(1, np.uint64)[0] >> np.uint64(1))


# ---------------------------------------------------------------- what every worker holds


class RunPlugin(WorkerPlugin):
    """One run's model and filter settings on a worker; a filter stage per worker thread, closed at the end."""

    def __init__(self, name: str, model: Optional[CharRNN], filters: Any, filter_options: Mapping[str, Any]):
        self.name, self.model, self.filters, self.filter_options = name, model, filters, dict(filter_options)
        self._stages: list[FilterStage] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: self.__dict__[k] for k in ("name", "model", "filters", "filter_options")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._stages, self._local, self._lock = [], threading.local(), threading.Lock()

    def stage(self) -> FilterStage:
        """This thread's filter stage, entered (OPSIN started) on first use, its counts reset per task."""
        stage = getattr(self._local, "stage", None)
        if stage is None:
            stage = FilterStage(self.filters, self.filter_options).__enter__()
            self._local.stage = stage
            with self._lock:
                self._stages.append(stage)
        stage.stats = {}
        return stage

    def teardown(self, worker: Any) -> None:
        with self._lock:
            stages, self._stages = self._stages, []
        for stage in stages:
            stage.close()


def _plugin(name: str) -> RunPlugin:
    try:
        return get_worker().plugins[name]
    except KeyError:
        raise ChemgenError(f"worker has no chemgen run {name!r} (was the run cancelled?)") from None


@dataclass
class Shard:
    """What one task sends back: its index and its collector (or, for check, its candidates in order)."""

    index: int
    collector: Optional[Collector] = None
    candidates: list[Candidate] = field(default_factory=list)
    stats: dict[str, FilterStats] = field(default_factory=dict)


def generate_task(run: str, index: int, seed: int, tries: int, sampling: SamplingConfig, dedupe: bool) -> Shard:
    """Sample ``tries`` names with ``seed``, filter them, collect the survivors (runs on a worker)."""
    plugin = _plugin(run)
    collector = generate_shard(plugin.model, tries, seed, dedupe=dedupe, stage=plugin.stage(), **sampling.as_dict())
    return Shard(index, collector)


def check_task(run: str, index: int, names: list[str]) -> Shard:
    """Verdicts for a chunk of names, in order (runs on a worker)."""
    plugin = _plugin(run)
    candidates = to_candidates(names, plugin.model)
    stage = plugin.stage()
    stage.run(candidates, keep_failed=True)
    return Shard(index, candidates=candidates, stats=stage.stats)


# ---------------------------------------------------------------- filters shared by the cluster


class SharedFilterHost:
    """A Dask actor that runs one filter for the whole cluster (one rate limiter, one cache)."""

    def __init__(self, spec: Any, filter_options: Mapping[str, Any], env: Mapping[str, str]):
        os.environ.update(env)
        self.stage = FilterStage([spec], filter_options).__enter__()

    def check(self, candidates: list[Candidate]) -> list[Any]:
        return run_filter(self.stage.filters[0], candidates)

    def close(self) -> None:
        self.stage.close()


class SharedFilter:
    """A worker's stand-in for a shared filter: sends each batch to the actor hosting the real one."""

    def __init__(self, name: str, actor: Any):
        self.name, self.actor = name, actor

    def check(self, candidates: list[Candidate]) -> list[Any]:
        return self.actor.check(candidates).result()


def is_shared(spec: Any, installed: dict) -> bool:
    """Does this filter spec name a filter class marked ``shared = True``? (An unknown name is a FilterError.)"""
    if not isinstance(spec, str):
        return bool(getattr(spec, "shared", False))
    entry = find_entry(parse_spec(spec)[0], installed)
    try:
        return bool(getattr(entry.load(), "shared", False))
    except ChemgenError:
        return False  # the worker reports a plugin that fails to load


@contextlib.contextmanager
def hosted_filters(client: Any, filters: Any, filter_options: Mapping[str, Any]) -> Iterator[list[Any]]:
    """The run's filter list with each shared filter replaced by a stand-in for one actor on the cluster."""
    specs = spec_list(filters)
    installed = discover_filters() if any(isinstance(s, str) for s in specs) else {}
    shared = [is_shared(spec, installed) for spec in specs]  # an unknown name fails here, once, not on every worker
    env = {k: os.environ[k] for k in SHARED_ENV if k in os.environ}
    hosts, result = [], []
    try:
        for spec, is_shared_spec in zip(specs, shared):
            if not is_shared_spec:
                result.append(spec)
                continue
            actor = client.submit(SharedFilterHost, spec, dict(filter_options), env, actor=True, pure=False).result()
            name = parse_spec(spec)[0] if isinstance(spec, str) else spec.name
            hosts.append(actor)
            result.append(SharedFilter(name, actor))
        yield result
    finally:
        for actor in hosts:
            with contextlib.suppress(Exception):
                actor.close().result()


@contextlib.contextmanager
def registered_run(client: Any, model: Optional[CharRNN], filters: Any,
                   filter_options: Mapping[str, Any]) -> Iterator[str]:
    """Register the run's plugin on every worker (and on workers that join later); remove it at the end."""
    with hosted_filters(client, filters, filter_options) as worker_filters:
        name = f"chemgen-run-{uuid.uuid4().hex[:12]}"
        client.register_plugin(RunPlugin(name, model, worker_filters, filter_options), name=name)
        try:
            yield name
        finally:
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(name)


def _in_flight(client: Any) -> int:
    """How many tasks to keep submitted: two per worker thread."""
    return max(2, 2 * sum(client.nthreads().values()))


# ---------------------------------------------------------------- generate and check on a cluster


def generate_on(client: Any, n: int, model: CharRNN, filters: Any, sampling: SamplingConfig,
                seed: Optional[int], rank_by: str, max_tries: int, dedupe: bool = True,
                filter_options: Optional[Mapping[str, Any]] = None, task_size: int = TASK_SIZE) -> SpooledResults:
    """n ranked candidates from the cluster behind ``client`` (settings checked by the pipeline; see the module
    docstring for the rules)."""
    require_dask()
    if not isinstance(task_size, int) or task_size < 1:
        raise ConfigError(f"task_size must be a positive integer, not {quoted(task_size)}")
    n_tasks = math.ceil(max_tries / task_size) if n > 0 else 0
    entropy = int(np.random.SeedSequence(seed).entropy)
    collector = Collector(dedupe, store=SpoolStore())
    with registered_run(client, model, filters, filter_options or {}) as run:
        def submit(index: int) -> Any:
            tries = min(task_size, max_tries - index * task_size)
            return client.submit(generate_task, run, index, task_seed(entropy, index), tries, sampling, dedupe,
                                 pure=False, key=f"{run}-{index}")

        merged = _stream(client, n_tasks, submit, lambda: len(collector) >= n,
                         lambda shard: collector.merge_in(shard.collector),
                         progress_bar(total=n, desc="generating", unit="name"),
                         lambda bar: _show(bar, min(n, len(collector)), collector.tried))
    results = collector.spooled_results(n, rank_by)
    results.tasks = merged
    return results


def check_on(client: Any, names: Iterable[str], filters: Any = DEFAULT_FILTERS, model: Optional[CharRNN] = None,
             filter_options: Optional[Mapping[str, Any]] = None, task_size: int = TASK_SIZE) -> SpooledResults:
    """Every name's verdicts from the cluster, in input order (candidates spooled on the client)."""
    require_dask()
    chunks = _chunks(names, task_size)
    store, refs, stats = SpoolStore(), [], {}
    with registered_run(client, model, filters, filter_options or {}) as run:
        def submit(index: int) -> Any:
            chunk = next(chunks, None)
            return None if chunk is None else client.submit(check_task, run, index, chunk, pure=False,
                                                            key=f"{run}-{index}")

        def take(shard: Shard) -> None:
            refs.extend(store.put(c) for c in shard.candidates)
            for name, s in shard.stats.items():
                stats.setdefault(name, FilterStats()).add(s)

        _stream(client, None, submit, lambda: False, take, progress_bar(desc="checking", unit="name"),
                lambda bar: _show(bar, len(refs), len(refs)))
    results = SpooledResults(store, refs)
    results.tried, results.filter_stats = len(refs), stats
    return results


def _chunks(names: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for name in names:
        chunk.append(name)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _show(bar: Any, kept: int, tried: int) -> None:
    bar.n = kept
    bar.set_postfix_str(f"tried {tried:,}", refresh=True)


def _stream(client: Any, n_tasks: Optional[int], submit: Any, done: Any, take: Any, bar: Any,
            show: Any) -> int:
    """Keep a few tasks per worker thread in flight, take shards in task order until ``done()``; tasks merged.

    ``submit(i)`` returns the future of task i, or None when there are no more
    tasks. Shards that finish early wait (in memory) for the ones before them.
    """
    futures = as_completed()
    waiting: dict[int, Shard] = {}
    submitted = merged = 0
    exhausted = False

    def top_up() -> None:
        nonlocal submitted, exhausted
        while not exhausted and futures.count() < _in_flight(client):
            future = submit(submitted) if n_tasks is None or submitted < n_tasks else None
            if future is None:
                exhausted = True
                return
            futures.add(future)
            submitted += 1

    try:
        top_up()
        for future in futures:
            shard = future.result()
            future.release()
            waiting[shard.index] = shard
            while merged in waiting and not done():
                take(waiting.pop(merged))
                merged += 1
            show(bar)
            if done():
                break
            top_up()
    finally:
        left = list(futures.futures)
        futures.clear()
        if left:
            client.cancel(left)
        bar.close()
    return merged
