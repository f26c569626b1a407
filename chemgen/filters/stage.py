"""The filter stage: the filters of one run, from load to close.

    with FilterStage("opsin,rdkit(lipinski)") as stage:   # load, then prepare (a JVM boots)
        survivors = stage.run(candidates, keep_failed=False)
        stage.stats                                      # per-filter seen / passed

Every caller (generate, check, evaluate, ``chemgen filters``) goes through it,
so one OPSIN process serves a whole run. A candidate that fails a filter is
not sent to the later ones; a plugin that crashes on a name fails that name
only. When a filter waits on work outside Python (``background = True``:
OPSIN's JVM, a web service), the filters run side by side, each in its own
thread, on chunks of the batch: the wait overlaps the other filters' work,
and the verdicts and counts are those of running them in turn.
"""
from __future__ import annotations

import queue
import threading
import warnings
from typing import Any, Mapping, Optional

from chemgen.errors import ChemgenWarning, ConfigError, FilterError
from chemgen.filters.contract import Candidate, FilterStats, Verdict
from chemgen.filters.loading import FilterEntry, build_filter, discover_filters, spec_list

DEFAULT_FILTERS = "opsin,rdkit"  # generate and filter use these unless told otherwise
NEEDS_OPTIONS = "needs options"  # a filter that cannot start bare says "<name> needs options: ..." (a ConfigError)
CHUNK = 128  # candidates per chunk when filters run side by side
_END = object()  # what a lane passes on after its last chunk


def build_filters(specs: Any, run_options: Mapping[str, Any] = {}) -> list[Any]:
    """Filters from a spec string (``"opsin,rdkit(lipinski)"``), a list of specs or objects; "none" -> []."""
    items = spec_list(specs)
    installed: dict[str, FilterEntry] = discover_filters() if any(isinstance(s, str) for s in items) else {}
    return [build_filter(spec, installed, run_options) for spec in items]


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


def apply_filters(filters: list[Any], candidates: list[Candidate], stats: Optional[dict[str, FilterStats]] = None,
                  keep_failed: bool = True) -> list[Candidate]:
    """Run each filter over the candidates still passing; return them all (keep_failed) or the survivors."""
    stats = stats if stats is not None else {}
    if len(filters) > 1 and len(candidates) > CHUNK and any(getattr(f, "background", False) for f in filters):
        alive = _side_by_side(filters, candidates, stats)
    else:
        alive = list(candidates)
        for filter_ in filters:
            alive = _filter_chunk(filter_, alive, stats)
    return list(candidates) if keep_failed else alive


def _filter_chunk(filter_, alive: list[Candidate], stats: dict[str, FilterStats]) -> list[Candidate]:
    """One filter over candidates still passing: verdicts recorded, counts kept, the survivors returned."""
    if not alive:
        return alive
    verdicts = run_filter(filter_, alive)
    counts = stats.setdefault(filter_.name, FilterStats())
    counts.seen += len(alive)
    for candidate, verdict in zip(alive, verdicts):
        candidate.record(filter_.name, verdict)
        counts.passed += bool(verdict.passed)
    return [c for c in alive if c.verdicts[filter_.name].passed]


def _side_by_side(filters: list[Any], candidates: list[Candidate], stats: dict[str, FilterStats]) -> list[Candidate]:
    """The survivors, each filter in its own thread taking chunks from the one before (a pipeline)."""
    with FilterStream(filters, stats) as stream:
        stream.put(candidates)
        return stream.finish()


class FilterStream:
    """Filters as a pipeline fed while the candidates are still being made (as names end during sampling).

    Each filter runs in its own thread on chunks of CHUNK candidates, in the
    order they were put, taking them from the filter before; ``finish()``
    returns the survivors. The verdicts are those of running the filters over
    the same candidates at once; only the survivors' order follows the chunks.
    """

    def __init__(self, filters: list[Any], stats: dict[str, FilterStats]):
        self.stop = threading.Event()
        self.inbox: queue.Queue = queue.Queue()
        self.pending: list[Candidate] = []
        inbox, self.lanes = self.inbox, []
        for filter_ in filters:
            outbox: queue.Queue = queue.Queue()
            self.lanes.append(threading.Thread(target=_lane, args=(filter_, inbox, outbox, stats, self.stop),
                                               daemon=True, name=f"filter {filter_.name}"))
            inbox = outbox
        self.outbox = inbox
        for lane in self.lanes:
            lane.start()

    def __enter__(self) -> "FilterStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop.set()
        self.inbox.put(_END)
        for lane in self.lanes:
            lane.join()

    def put(self, candidates: list[Candidate]) -> None:
        """Queue candidates; full chunks go down the pipeline at once."""
        self.pending.extend(candidates)
        while len(self.pending) >= CHUNK:
            self.inbox.put(self.pending[:CHUNK])
            del self.pending[:CHUNK]

    def finish(self) -> list[Candidate]:
        """Send what is left, wait for the last filter, and return the survivors (a filter's error is raised)."""
        if self.pending:
            self.inbox.put(self.pending)
            self.pending = []
        self.inbox.put(_END)
        survivors: list[Candidate] = []
        while (chunk := self.outbox.get()) is not _END:
            if isinstance(chunk, BaseException):
                raise chunk
            survivors.extend(chunk)
        return survivors


def _lane(filter_, inbox: queue.Queue, outbox: queue.Queue, stats: dict[str, FilterStats],
          stop: threading.Event) -> None:
    """Filter chunk after chunk until the end (or an error, passed on to the caller)."""
    while (chunk := inbox.get()) is not _END and not isinstance(chunk, BaseException) and not stop.is_set():
        try:
            chunk = _filter_chunk(filter_, chunk, stats)
        except BaseException as exc:  # the caller raises it
            outbox.put(exc)
            return
        outbox.put(chunk)
    outbox.put(chunk if isinstance(chunk, BaseException) else _END)


def warn_missing_structure(filters: list[Any]) -> None:
    """Warn when a filter that needs a structure (rdkit) has no structure-making filter (opsin) before it."""
    made = False
    for filter_ in filters:
        if getattr(filter_, "needs_structure", False) and not made:
            warnings.warn(f"filter {filter_.name!r} needs a structure, but no filter before it makes one, so it "
                          f"passes nothing: put opsin or pubchem first (e.g. opsin,{filter_.name})",
                          ChemgenWarning, stacklevel=4)
        made = made or bool(getattr(filter_, "makes_structure", False))


def _call_optional(filter_, method: str) -> None:
    hook = getattr(filter_, method, None)
    if callable(hook):
        hook()


class FilterStage:
    """The filters of one run: built and prepared on entry, closed on exit.

    specs: a spec string, a list of specs or filter objects, or "none".
    run_options: options for every filter that takes them (e.g. ``offline=True``).
    """

    def __init__(self, specs: Any = DEFAULT_FILTERS, run_options: Optional[Mapping[str, Any]] = None):
        self.specs, self.run_options = specs, dict(run_options or {})
        self.filters: list[Any] = []
        self.stats: dict[str, FilterStats] = {}

    def __enter__(self) -> "FilterStage":
        self.filters = build_filters(self.specs, self.run_options)
        warn_missing_structure(self.filters)
        try:
            for filter_ in self.filters:
                _call_optional(filter_, "prepare")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.filters]

    def run(self, candidates: list[Candidate], keep_failed: bool = True) -> list[Candidate]:
        """Verdicts for a batch; all candidates back (keep_failed) or only those that passed every filter."""
        return apply_filters(self.filters, candidates, self.stats, keep_failed)

    def stream(self) -> Optional[FilterStream]:
        """A pipeline to feed candidates to as they are made, when a filter waits outside Python (else None:
        then a batch is filtered at once, with :meth:`run`)."""
        if len(self.filters) > 1 and any(getattr(f, "background", False) for f in self.filters):
            return FilterStream(self.filters, self.stats)
        return None

    def close(self) -> None:
        """Release what the filters hold (OPSIN processes, caches); safe to call twice."""
        filters, self.filters = self.filters, []
        for filter_ in filters:
            _call_optional(filter_, "close")


def filter_status(entry: FilterEntry) -> str:
    """Can this installed filter run here: "ready", or why not (for ``chemgen filters``)."""
    try:
        instance = build_filter(entry.name, {entry.name: entry})
    except FilterError as exc:
        return f"cannot load: {entry.load_error}" if entry.load_error else f"cannot start: {exc}"
    except Exception as exc:  # a plugin's constructor failing is a status to show, not a crash
        needs = str(exc).find(NEEDS_OPTIONS)  # a ConfigError saying "<name> needs options: ..." is no failure
        return str(exc)[needs:] if isinstance(exc, ConfigError) and needs >= 0 else f"cannot start: {exc}"
    try:
        available = getattr(instance, "available", None)
        ok, why = available() if callable(available) else (True, "")
    finally:
        _call_optional(instance, "close")
    return "ready" if ok else f"unavailable: {why}"
