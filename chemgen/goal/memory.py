"""What a goal-directed run remembers: scaffold buckets (the diversity filter) and the replay memory.

The diversity filter is REINVENT's identical-Murcko-scaffold bucket: every
sample scoring at least ``min_score`` is a hit on its scaffold; once a
scaffold holds ``bucket_size`` hits, further hits on it score 0, so the agent
is pushed to new chemotypes instead of collapsing on one.

The replay memory keeps the best ``size`` names seen (one per structure, by
score) with their prior log-likelihood; a few of them join each step's batch,
so good finds keep pulling the agent (REINVENT's "inception").

The name variants are the Augmented Memory of Guo and Schwaller (2023) for
names: where SMILES can be written from any atom, a structure has several
valid names (the namer's, and those the agent itself wrote), and replaying a
good structure under another of its names teaches the structure rather than
one string.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np


@dataclass
class DiversityFilter:
    """Scaffold -> hits so far; ``penalise`` zeroes hits on full buckets."""

    bucket_size: int = 25
    min_score: float = 0.4
    buckets: dict[str, int] = field(default_factory=dict)

    def penalise(self, scores: np.ndarray, scaffolds: list[Optional[str]]) -> np.ndarray:
        """Scores after the filter (N,); scaffolds None (no structure) are left alone."""
        out = np.array(scores, dtype=np.float64)
        for i, scaffold in enumerate(scaffolds):
            if scaffold is None or out[i] < self.min_score:
                continue
            if self.buckets.get(scaffold, 0) >= self.bucket_size:
                out[i] = 0.0
            else:
                self.buckets[scaffold] = self.buckets.get(scaffold, 0) + 1
        return out

    def state(self) -> dict[str, Any]:
        return {"buckets": dict(self.buckets)}

    def load(self, state: dict[str, Any]) -> None:
        self.buckets = {str(k): int(v) for k, v in state.get("buckets", {}).items()}


@dataclass
class ReplayMemory:
    """The best ``size`` names by score, one per structure key (SMILES, else the name)."""

    size: int = 50
    entries: list[dict[str, Any]] = field(default_factory=list)  # name, score, prior_logp, key

    def add(self, name: str, score: float, prior_logp: float, key: Optional[str]) -> None:
        if not score > 0:
            return
        key = key or f"name:{name}"
        for entry in self.entries:
            if entry["key"] == key:
                if score > entry["score"]:
                    entry.update(name=name, score=float(score), prior_logp=float(prior_logp))
                break
        else:
            self.entries.append({"name": name, "score": float(score), "prior_logp": float(prior_logp), "key": key})
        self.entries.sort(key=lambda e: (-e["score"], e["name"]))
        del self.entries[self.size :]

    def sample(self, n: int, rng: np.random.Generator, by_score: bool = False) -> list[dict[str, Any]]:
        """Up to n entries drawn without replacement, uniformly or in proportion to their score."""
        if n <= 0 or not self.entries:
            return []
        weights = np.array([e["score"] for e in self.entries]) if by_score else None
        rows = rng.choice(len(self.entries), size=min(n, len(self.entries)), replace=False,
                          p=None if weights is None else weights / weights.sum())
        return [self.entries[int(i)] for i in sorted(rows)]

    def state(self) -> dict[str, Any]:
        return {"entries": [dict(e) for e in self.entries]}

    def load(self, state: dict[str, Any]) -> None:
        self.entries = [dict(e) for e in state.get("entries", [])]


@dataclass
class NameVariants:
    """Structure key -> the distinct valid names known for it (at most ``per_structure``), in the order met."""

    per_structure: int = 4
    names: dict[str, list[str]] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)  # structures the namer was asked about

    def add(self, key: Optional[str], name: Optional[str]) -> None:
        if key is None or not name:
            return
        known = self.names.setdefault(key, [])
        if name not in known and len(known) < self.per_structure:
            known.append(name)

    def other(self, key: Optional[str], name: str, rng: np.random.Generator) -> str:
        """Another known name of the structure, drawn at random; the name itself when none is known."""
        others = [n for n in self.names.get(key, ()) if n != name] if key is not None else []
        return others[int(rng.integers(len(others)))] if others else name

    def state(self) -> dict[str, Any]:
        return {"names": {k: list(v) for k, v in self.names.items()}, "named": sorted(self.named)}

    def load(self, state: dict[str, Any]) -> None:
        self.names = {str(k): [str(n) for n in v] for k, v in state.get("names", {}).items()}
        self.named = {str(k) for k in state.get("named", [])}
