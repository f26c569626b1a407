"""The ``canonical`` filter: the standard IUPAC name of each candidate's structure, beside the sampled spelling.

Needs a structure on the candidate (from ``opsin`` or ``pubchem`` earlier in
the chain). It always passes; it annotates ``canonical_name`` (openclatura's
name for the structure) and ``canonical_same`` (whether the sampled name is
already that spelling), so a chemist sees the standard name of every
candidate, and searches, reports and other tools can use it.

    chemgen generate --filters opsin,rdkit,canonical
"""
from __future__ import annotations

from chemgen.chem.namer import name_smiles
from chemgen.filters import Candidate, Verdict


class CanonicalNameFilter:
    """Annotate the standard name of each structure; never rejects."""

    name = "canonical"
    needs_structure = True  # names the structure an earlier filter found

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        return [self.judge(candidate) for candidate in candidates]

    @staticmethod
    def judge(candidate: Candidate) -> Verdict:
        if not candidate.smiles:
            return Verdict(True, 1.0, "", {})
        name, _ = name_smiles(candidate.smiles)
        if name is None:
            return Verdict(True, 1.0, "", {})
        return Verdict(True, 1.0, "", {"canonical_name": name, "canonical_same": name == candidate.name})
