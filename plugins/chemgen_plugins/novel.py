"""The ``novel`` filter: drop names the model saw in training or that name known compounds.

A candidate is *known* when the pipeline marked it as a name the model knows
(``in_training``, from the model's fingerprint: its training names and, for a
fine-tuned model, every name of the series it was given, held-out ones
included; None means unknown), when its name is in the local index of
known compounds (:mod:`chemgen.chem.known`), or when its InChIKey (set by an earlier
structure filter) is. A known compound with the same skeleton (InChIKey
connectivity block) is reported as "same skeleton" but counts only with ``strict``.

Options::

    index=PATH    another index (gzipped TSV name<TAB>inchikey<TAB>smiles)
    mode=novel    pass only new compounds (default); mode=known passes only known ones
    strict        a same-skeleton match counts as known

Annotations: ``in_training``, ``known_name``, ``known_inchikey``, ``same_skeleton``;
and, for a known name when the candidate has no structure yet, the index's
``smiles``/``inchikey``.
"""
from __future__ import annotations

from typing import Any, Optional

from chemgen.chem.known import DEFAULT_INDEX, KnownIndex
from chemgen.filters import Candidate, Verdict, parse_choice, parse_flag, parse_path

MODES = ("novel", "known")


class NoveltyFilter:
    """Novelty against the training names and a local index of known compounds."""

    name = "novel"

    def __init__(self, index: Optional[str] = None, mode: str = "novel", strict: Any = False) -> None:
        self.index_path = DEFAULT_INDEX if index is None else parse_path("novel", "index", index)
        self.mode = parse_choice("novel", "mode", mode, MODES)
        self.strict = parse_flag("novel", "strict", strict)
        self._index: Optional[KnownIndex] = None

    def available(self) -> tuple[bool, str]:
        if self.index_path.exists():
            return True, ""
        return False, f"known-compounds index not found: {self.index_path} (build it or pass index=PATH)"

    @property
    def index(self) -> KnownIndex:
        """The index, loaded on first use (once per file per process)."""
        if self._index is None:
            self._index = KnownIndex.load(self.index_path)
        return self._index

    def close(self) -> None:
        self._index = None

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        index = self.index
        return [self.judge(candidate, index) for candidate in candidates]

    def judge(self, candidate: Candidate, index: KnownIndex) -> Verdict:
        """One candidate's verdict and what the index knows of it."""
        by_name = index.by_name(candidate.name)
        by_key = index.by_inchikey(candidate.inchikey)
        skeleton = index.by_skeleton(candidate.inchikey) if not by_key else None
        match = by_name or by_key
        annotations: dict[str, Any] = {
            "in_training": candidate.in_training,
            "known_name": match.name if match else None,
            "known_inchikey": (match.inchikey or None) if match else None,
            "same_skeleton": skeleton.name if skeleton else None,
        }
        if by_name and not candidate.smiles and by_name.smiles:
            annotations.update(smiles=by_name.smiles, inchikey=by_name.inchikey or None)
        findings = _findings(candidate.in_training, by_name, by_key)
        is_known = bool(findings) or (self.strict and skeleton is not None)
        if skeleton is not None:
            findings.append(f"same skeleton as {skeleton.name or skeleton.inchikey}")
        passed = is_known if self.mode == "known" else not is_known
        if self.mode == "known" and not passed:
            findings.insert(0, "not a known compound")
        score = 0.0 if not passed else (0.5 if skeleton is not None else 1.0)
        return Verdict(passed, score, "; ".join(findings), annotations)


def _findings(in_training: Optional[bool], by_name, by_key) -> list[str]:
    found = []
    if in_training:
        found.append("seen in training")
    if by_name:
        found.append("known name")
    if by_key:
        found.append(f"known structure ({by_key.name or by_key.inchikey})")
    return found
