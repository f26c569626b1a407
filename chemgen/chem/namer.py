"""Naming structures: SMILES -> IUPAC name with openclatura, each name checked by an OPSIN round trip.

A name is kept only when OPSIN reads it back to the structure it was made
from (same standard InChIKey); otherwise the molecule gets a one-line reason
and no name. Invalid input gives a reason, never an exception, so one bad
molecule cannot stop a batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from chemgen.chem.molecules import inchikey_of, parse_smiles, quiet_rdkit
from chemgen.chem.opsin import OpsinProcess
from chemgen.io.names import quoted

NAMER = "openclatura"


@dataclass(frozen=True)
class Named:
    """A molecule's verified name, or why it has none."""

    smiles: str
    name: Optional[str]  # None when the molecule could not be named and verified
    reason: str = ""  # why not, e.g. "OPSIN reads the name back to another structure"


def name_smiles(smiles: str) -> tuple[Optional[str], str]:
    """openclatura's name for one SMILES (white space normalised), or None and why."""
    from openclatura import name_smiles as openclatura_name

    try:
        with quiet_rdkit():
            name = openclatura_name(smiles)
    except Exception as exc:  # the namer's failure on one molecule is that molecule's reason
        return None, f"{NAMER} could not name it ({type(exc).__name__}: {str(exc)[:80]})"
    name = " ".join((name or "").split())
    return (name, "") if name else (None, f"{NAMER} gave no name")


def name_molecules(smiles: Sequence[str], opsin: OpsinProcess) -> list[Named]:
    """A verified name (or a reason) for every SMILES, in order; OPSIN checks them in one batch."""
    keys, names, reasons = [], [], []
    for smi in smiles:
        mol, why = parse_smiles(smi)
        key = inchikey_of(mol)
        name, naming_error = name_smiles(smi) if key else (None, "")
        keys.append(key)
        names.append(name)
        reasons.append(f"unreadable SMILES: {why or 'no InChIKey'}" if not key else naming_error)
    todo = [i for i, name in enumerate(names) if name]
    for i, result in zip(todo, opsin.parse([names[i] for i in todo])):
        if result.smiles is None:
            reasons[i] = f"OPSIN cannot read the name {quoted(names[i])} back: {result.reason}"
        elif inchikey_of(parse_smiles(result.smiles)[0]) != keys[i]:
            reasons[i] = f"OPSIN reads the name {quoted(names[i])} back to another structure"
    return [Named(smi, name if not reason else None, reason) for smi, name, reason in zip(smiles, names, reasons)]
