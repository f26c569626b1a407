"""The filter plugin contract: the Filter protocol, the candidates it sees and the verdicts it gives.

A filter is any object with a ``name`` (str) and a batch method
``check(candidates) -> list[Verdict]`` returning exactly one verdict per
candidate, in order. It may also define ``available() -> (bool, str)`` (can it
run here, and if not why), ``prepare()`` (start slow resources early, without
blocking: the stage calls it before sampling) and ``close()`` (release
processes, files). A class attribute ``shared = True`` asks for one instance
per Dask cluster, hosted by one worker and used by all (rate limits, caches).

A filter may list the annotations its verdicts can carry in ``annotations``
(names); a scoring component that reads one it never gives (``value=``) is then
refused before a run starts. Structure annotations a filter finds (``smiles``, ``inchikey``) are copied onto
the candidate, so later filters (rdkit after opsin) can use them. A filter
that finds structures may say so with ``makes_structure = True``; one that
needs them, ``needs_structure = True`` (the stage warns when none comes first).

A filter whose ``check`` mostly waits on work outside Python (another
process, a web service) may say ``background = True``: the stage then runs
each filter of the run in its own thread on chunks of the batch, so the wait
overlaps the others' work. ``check`` is still called once at a time per
filter, chunks in order; a filter that needs the main thread (signals) must
not be in such a run.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, runtime_checkable

STRUCTURE_KEYS = ("smiles", "inchikey")


@dataclass
class Verdict:
    """One filter's judgement of one candidate."""

    passed: bool  # does the candidate survive this filter
    score: float = 1.0  # plausibility in [0, 1]; 1.0 for a plain pass, 0.0 for a plain fail
    reason: str = ""  # short, human, e.g. "OPSIN: unmatched bracket"
    annotations: dict[str, Any] = field(default_factory=dict)  # smiles, inchikey, cid, mw, ...

    def __post_init__(self) -> None:
        self.score = float(min(1.0, max(0.0, self.score)))


@dataclass
class Candidate:
    """A name going through the filter stage, with what the model and the filters said of it."""

    name: str
    logp: Optional[float] = None  # natural-log likelihood under the model (None if unscored)
    logp_per_char: Optional[float] = None  # logp / (len(name) + 1), end token included
    in_training: Optional[bool] = None  # the name is one of the model's training names
    smiles: Optional[str] = None  # structure, once a filter has found one
    inchikey: Optional[str] = None
    properties: dict[str, Any] = field(default_factory=dict)  # annotations other than structure
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # filter name -> verdict

    @property
    def passed(self) -> bool:
        """True when every filter that saw the candidate passed it."""
        return all(v.passed for v in self.verdicts.values())

    @property
    def reasons(self) -> list[str]:
        """The reasons of failed verdicts, as ``filter: reason``."""
        return [f"{name}: {v.reason}" for name, v in self.verdicts.items() if not v.passed]

    def record(self, filter_name: str, verdict: Verdict) -> None:
        """Keep a verdict and lift its annotations onto the candidate."""
        self.verdicts[filter_name] = verdict
        for key, value in verdict.annotations.items():
            if value is None:
                continue
            if key in STRUCTURE_KEYS:
                setattr(self, key, value)
            else:
                self.properties[key] = value

    def _repr_html_(self) -> str:
        """Notebook display, by the renderer that chemgen.output registers (plain text until it is loaded)."""
        if _html_renderer is None:
            return f"<pre>{html.escape(repr(self))}</pre>"
        return _html_renderer(self)


_html_renderer: Optional[Callable[[Candidate], str]] = None


def use_html_renderer(render: Callable[[Candidate], str]) -> None:
    """Set how a Candidate displays in a notebook (chemgen.output.html registers its own on import)."""
    global _html_renderer
    _html_renderer = render


@dataclass
class FilterStats:
    """How many candidates reached a filter and how many it passed."""

    seen: int = 0
    passed: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.seen if self.seen else 0.0

    def add(self, other: "FilterStats") -> None:
        self.seen += other.seen
        self.passed += other.passed



@runtime_checkable
class Filter(Protocol):
    """What a filter must have; ``available``, ``prepare`` and ``close`` are optional."""

    name: str

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        """One verdict per candidate, in order."""
        ...
