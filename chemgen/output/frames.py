"""pandas DataFrames of candidates, with the columns of CSV and JSON Lines output.

    chemgen.to_frame(results)             # rank, name, logp, ..., properties, other annotations
    results.to_frame(mols=True)           # plus an RDKit molecule column drawn in a notebook

pandas is an optional extra (``pip install "chemgen[notebook]"``); without it
the call fails with a :class:`ChemgenError` that says so.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any, Sequence

from chemgen.chem import molecules as chem
from chemgen.errors import ChemgenError, ConfigError
from chemgen.io.names import quoted
from chemgen.output.writers import field_names, to_record

if TYPE_CHECKING:
    from chemgen.filters import Candidate

NOTEBOOK_EXTRA = 'pip install "chemgen[notebook]"'


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or fail in one line naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ChemgenError(f"{purpose} needs {module}, which is not installed: {NOTEBOOK_EXTRA}") from None


def candidate_list(cands: Any) -> list["Candidate"]:
    """cands as a list of Candidates (results, or any list of them); ConfigError naming the first that is not."""
    from chemgen.filters import Candidate

    if isinstance(cands, (str, bytes)) or not hasattr(cands, "__iter__"):
        raise ConfigError(f"to_frame needs a list of candidates (chemgen.generate or check results), "
                          f"not {type(cands).__name__}")
    cands = list(cands)
    for index, cand in enumerate(cands):
        if not isinstance(cand, Candidate):
            raise ConfigError(f"to_frame: item {index} ({quoted(cand, 40)}) is not a Candidate "
                              f"(chemgen.check(names) makes candidates of names)")
    return cands


def to_frame(cands: Sequence[Candidate], mols: bool = False, mol_column: str = "mol") -> Any:
    """A DataFrame, one row per candidate in order, with the CSV/JSONL columns (``reasons`` a list).

    mols: add ``mol_column`` of RDKit molecules (None where there is no
    readable structure); the frame then draws them as images in a notebook
    (RDKit's PandasTools, for this frame only).
    """
    cands = candidate_list(cands)
    if not isinstance(mols, bool) or not isinstance(mol_column, str) or not mol_column:
        raise ConfigError(f"to_frame: mols is True or False and mol_column a column name, not {quoted(mols)} and "
                          f"{quoted(mol_column)}")
    pd = require("pandas", "a DataFrame of candidates")
    fields = field_names(cands)
    records = [to_record(cand, rank) for rank, cand in enumerate(cands, 1)]
    frame = pd.DataFrame([[record.get(field) for field in fields] for record in records], columns=fields)
    if mols:
        from rdkit.Chem import PandasTools

        frame[mol_column] = [chem.mol_from_smiles(cand.smiles) for cand in cands]
        PandasTools.ChangeMoleculeRendering(frame)
    return frame
