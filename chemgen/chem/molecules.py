"""RDKit helpers in the datamol manner: parse, identify, describe, fingerprint.

RDKit's own log noise (valence complaints, InChI warnings) is silenced in one
place, :func:`quiet_rdkit`, which every helper here uses. Invalid input gives
``None`` or NaN, never an exception, so one bad structure cannot break a batch.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Optional

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdFingerprintGenerator, rdMolDescriptors

Mol = Chem.Mol

# Property name -> function of a sanitised Mol; the order is the column order of exports.
_PROPERTY_FUNCTIONS = {
    "mw": Descriptors.MolWt,  # average molecular weight, g/mol
    "clogp": Crippen.MolLogP,  # Wildman-Crippen logP
    "tpsa": rdMolDescriptors.CalcTPSA,  # topological polar surface area, Å²
    "hbd": Lipinski.NumHDonors,  # hydrogen-bond donors
    "hba": Lipinski.NumHAcceptors,  # hydrogen-bond acceptors
    "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds,
    "qed": QED.qed,  # quantitative estimate of drug-likeness, [0, 1]
    "heavy_atoms": lambda mol: mol.GetNumHeavyAtoms(),
}
PROPERTY_NAMES: tuple[str, ...] = tuple(_PROPERTY_FUNCTIONS)
INTEGER_PROPERTIES = frozenset({"hbd", "hba", "rotatable_bonds", "heavy_atoms"})


@contextlib.contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's ``rdApp.*`` logs inside the block, then restore what was enabled."""
    enabled = [
        line.split(":")[0] for line in rdBase.LogStatus().splitlines() if line.endswith(":enabled")
    ]
    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        for channel in enabled:
            RDLogger.EnableLog(channel)


def parse_smiles(smiles: Any) -> tuple[Optional[Mol], str]:
    """A sanitised Mol and ``""``, or ``None`` and a one-line reason it could not be made."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None, "empty SMILES"
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles.strip(), sanitize=False)
        if mol is None:
            return None, f"unparsable SMILES {smiles.strip()!r}"
        problems = Chem.DetectChemistryProblems(mol)
        if problems:
            return None, problems[0].Message()
        try:
            Chem.SanitizeMol(mol)
        except Exception as exc:  # RDKit raises several unrelated types here
            message = str(exc).strip()
            return None, message.splitlines()[0] if message else type(exc).__name__
    return mol, ""


def mol_from_smiles(smiles: Any) -> Optional[Mol]:
    """A sanitised Mol, or ``None`` for anything RDKit cannot read or sanitise."""
    return parse_smiles(smiles)[0]


def smiles_of(mol: Optional[Mol]) -> Optional[str]:
    """Canonical SMILES, or ``None``."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolToSmiles(mol) or None
        except Exception:
            return None


def inchikey_of(mol: Optional[Mol]) -> Optional[str]:
    """Standard InChIKey, or ``None`` when there is no Mol or InChI cannot be made."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolToInchiKey(mol) or None
        except Exception:
            return None


def compute_properties(mol: Optional[Mol]) -> dict[str, float]:
    """The descriptors of :data:`PROPERTY_NAMES`; NaN for each one that cannot be computed."""
    values: dict[str, float] = {}
    with quiet_rdkit():
        for name, function in _PROPERTY_FUNCTIONS.items():
            values[name] = _safe_value(function, mol, name in INTEGER_PROPERTIES)
    return values


def _safe_value(function: Any, mol: Optional[Mol], integer: bool) -> Any:
    if mol is None:
        return math.nan
    try:
        value = function(mol)
    except Exception:
        return math.nan
    return int(value) if integer else float(value)


def morgan_fingerprint(mol: Optional[Mol], radius: int = 2, n_bits: int = 2048) -> Any:
    """Morgan (ECFP-like) bit vector, or ``None``."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
            return generator.GetFingerprint(mol)
        except Exception:
            return None


def scaffold_of(mol: Optional[Mol]) -> Optional[str]:
    """The Bemis-Murcko scaffold as SMILES (ring systems and their linkers), or ``None`` when acyclic or unreadable."""
    if mol is None:
        return None
    from rdkit.Chem.Scaffolds import MurckoScaffold

    with quiet_rdkit():
        try:
            return MurckoScaffold.MurckoScaffoldSmiles(mol=mol) or None
        except Exception:
            return None


def is_missing(value: Any) -> bool:
    """True for ``None`` and float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))
