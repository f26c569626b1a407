"""The ``substructure`` filter: keep (or drop) structures with a SMARTS match.

Needs a structure on the candidate (from ``opsin`` or ``pubchem`` earlier in
the chain). A SMARTS with brackets and commas is written as it is, since the
filter list splits only at commas outside brackets:
``--filters "opsin,substructure(smarts=c1ccc2[nH]ccc2c1,exclude=[N+](=O)[O-])"``;
several patterns, or ones the shell makes awkward, go in a file, one per line.

Options::

    smarts=SMARTS      the structure must contain this pattern
    file=PATH          ... and every pattern in this file (one per line, '#' comments)
    exclude=SMARTS     the structure must not contain this pattern
    exclude_file=PATH  ... nor any pattern in this file
"""
from __future__ import annotations

from typing import Any, Optional

from chemgen.chem import molecules as chem
from chemgen.errors import ConfigError
from chemgen.filters import Candidate, Verdict, parse_path
from chemgen.io.names import quoted

NO_STRUCTURE = "no structure (run opsin or pubchem first)"


def compile_smarts(option: str, text: str) -> Any:
    """An RDKit query molecule, or ConfigError naming the bad pattern."""
    from rdkit import Chem

    with chem.quiet_rdkit():
        query = Chem.MolFromSmarts(text)
    if query is None:
        raise ConfigError(f"substructure: option {option}={quoted(text)} is not valid SMARTS")
    return query


def patterns(option: str, inline: Any, file_option: str, path: Any) -> list[tuple[str, Any]]:
    """(text, query) for the inline pattern and each line of the file."""
    texts = [] if inline is None else [str(inline).strip()]
    if inline is True or (inline is not None and not texts[0]):
        raise ConfigError(f"substructure: option {option} needs a SMARTS pattern ({option}=SMARTS)")
    if path is not None:
        lines = parse_path("substructure", file_option, path).read_text(encoding="utf-8").splitlines()
        texts += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [(text, compile_smarts(option, text)) for text in texts]


class SubstructureFilter:
    """SMARTS patterns a structure must contain, and ones it must not."""

    name = "substructure"

    def __init__(self, smarts: Optional[str] = None, file: Optional[str] = None, exclude: Optional[str] = None,
                 exclude_file: Optional[str] = None) -> None:
        self.required = patterns("smarts", smarts, "file", file)
        self.excluded = patterns("exclude", exclude, "exclude_file", exclude_file)
        if not self.required and not self.excluded:
            raise ConfigError("substructure needs options: smarts=, file=, exclude= or exclude_file=")

    def check(self, candidates: list[Candidate]) -> list[Verdict]:
        return [self.judge(candidate) for candidate in candidates]

    def judge(self, candidate: Candidate) -> Verdict:
        mol = chem.mol_from_smiles(candidate.smiles) if candidate.smiles else None
        if mol is None:
            return Verdict(False, 0.0, NO_STRUCTURE)
        missing = [text for text, query in self.required if not mol.HasSubstructMatch(query)]
        present = [text for text, query in self.excluded if mol.HasSubstructMatch(query)]
        reasons = [f"lacks {text}" for text in missing] + [f"contains excluded {text}" for text in present]
        return Verdict(not reasons, 0.0 if reasons else 1.0, "; ".join(reasons))
