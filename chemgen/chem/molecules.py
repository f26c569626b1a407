"""RDKit helpers in the datamol manner: parse, identify, describe, fingerprint.

RDKit's own log noise (valence complaints, InChI warnings) is silenced in one
place, :func:`quiet_rdkit`, which every helper here uses. Invalid input gives
``None`` or NaN, never an exception, so one bad structure cannot break a batch.
"""
from __future__ import annotations

import contextlib
import math
import re
import threading
from typing import Any, Iterable, Iterator, Optional

import numpy as np
from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdFingerprintGenerator, rdMolDescriptors

from chemgen.errors import ConfigError
from chemgen.io.names import quoted

Mol = Chem.Mol

# Property name -> function of a sanitised Mol; the order is the column order of exports.
_PROPERTY_FUNCTIONS = {
    "mw": Descriptors.MolWt,  # average molecular weight, g/mol
    "clogp": Crippen.MolLogP,  # Wildman-Crippen logP
    "tpsa": rdMolDescriptors.CalcTPSA,  # topological polar surface area, Å²
    "hbd": Lipinski.NumHDonors,  # hydrogen-bond donors
    "hba": Lipinski.NumHAcceptors,  # hydrogen-bond acceptors
    "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds,
    "qed": lambda mol: qed_of(mol),  # quantitative estimate of drug-likeness, [0, 1]
    "heavy_atoms": lambda mol: mol.GetNumHeavyAtoms(),
}
PROPERTY_NAMES: tuple[str, ...] = tuple(_PROPERTY_FUNCTIONS)
INTEGER_PROPERTIES = frozenset({"hbd", "hba", "rotatable_bonds", "heavy_atoms"})
SCAFFOLD = "scaffold"  # the Murcko scaffold annotation, chosen like a property
PROPERTY_CHOICES: tuple[str, ...] = PROPERTY_NAMES + (SCAFFOLD,)  # what a property selection may name


_quiet_lock = threading.Lock()  # quiet_rdkit may be entered from several threads (the filter stage's)
_quiet_depth = 0  # blocks inside quiet_rdkit right now
_quiet_restore: list[str] = []  # the channels to enable again when the last block ends


@contextlib.contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's ``rdApp.*`` logs inside the block, then restore what was enabled.

    Blocks may nest and overlap across threads: logs come back when the last one ends.
    """
    global _quiet_depth, _quiet_restore
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_restore = [line.split(":")[0] for line in rdBase.LogStatus().splitlines()
                              if line.endswith(":enabled")]
            RDLogger.DisableLog("rdApp.*")
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                for channel in _quiet_restore:
                    RDLogger.EnableLog(channel)


def parse_smiles(smiles: Any) -> tuple[Optional[Mol], str]:
    """A sanitised Mol and ``""``, or ``None`` and a one-line reason it could not be made."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None, "empty SMILES"
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles.strip(), sanitize=False)
        if mol is None:
            return None, f"unparsable SMILES {quoted(smiles.strip())}"
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


def to_mol(smiles_or_mol: Any) -> Optional[Mol]:
    """A molecule as it is, or RDKit's ``MolFromSmiles`` of a SMILES string (sanitised, explicit hydrogens
    removed, as the MOSES and GuacaMol reference code read SMILES); ``None`` for anything else or invalid."""
    if isinstance(smiles_or_mol, Mol):
        return smiles_or_mol
    if not isinstance(smiles_or_mol, str) or not smiles_or_mol:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolFromSmiles(smiles_or_mol)
        except Exception:  # RDKit raises several unrelated types on malformed input
            return None


def canonical_smiles(smiles_or_mol: Any, stereo: bool = True) -> Optional[str]:
    """RDKit's canonical SMILES (with or without stereo) of a SMILES string or a Mol, or ``None`` when invalid."""
    mol = to_mol(smiles_or_mol)
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolToSmiles(mol, isomericSmiles=stereo) or None
        except Exception:
            return None


def smiles_of(mol: Optional[Mol]) -> Optional[str]:
    """Canonical SMILES, or ``None``."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolToSmiles(mol) or None
        except Exception:
            return None


PARENT_RULE = "largest fragment, uncharged"  # how a salt or solvate becomes the molecule that is named


def parent_smiles(smiles: str) -> str:
    """The parent of a salt, solvate or charged form (RDKit's rdMolStandardize: largest fragment, uncharged)
    as canonical SMILES; ``smiles`` itself when it is one neutral component already or cannot be read
    (so ``parent_smiles(s) != s`` says it was stripped)."""
    mol = mol_from_smiles(smiles)
    if mol is None or (len(Chem.GetMolFrags(mol)) == 1 and not any(a.GetFormalCharge() for a in mol.GetAtoms())):
        return smiles
    from rdkit.Chem.MolStandardize import rdMolStandardize

    with quiet_rdkit():
        try:
            parent = rdMolStandardize.Uncharger().uncharge(rdMolStandardize.LargestFragmentChooser().choose(mol))
        except Exception:  # RDKit raises several unrelated types; the molecule is then named as given
            return smiles
    out = smiles_of(parent)
    return smiles if out is None or out == smiles_of(mol) else out


def inchikey_of(mol: Optional[Mol]) -> Optional[str]:
    """Standard InChIKey, or ``None`` when there is no Mol or InChI cannot be made."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return Chem.MolToInchiKey(mol) or None
        except Exception:
            return None


def compute_properties(mol: Optional[Mol], names: Iterable[str] = PROPERTY_NAMES) -> dict[str, float]:
    """The descriptors named (all of :data:`PROPERTY_NAMES` by default), in that order; NaN where one fails."""
    wanted = set(names)
    values: dict[str, float] = {}
    with quiet_rdkit():
        for name, function in _PROPERTY_FUNCTIONS.items():
            if name in wanted:
                values[name] = _safe_value(function, mol, name in INTEGER_PROPERTIES)
    return values


def qed_of(mol: Mol) -> float:
    """``rdkit.Chem.QED.qed(mol)``, the same value, computed on ``mol`` itself when it has no hydrogen to remove.

    QED removes hydrogens first, on a copy that loses what RDKit keeps on the
    molecule (the Crippen logP just computed for ``clogp``); with nothing to
    remove, its properties are computed on the molecule itself.
    """
    if Chem.RemoveHs(mol).GetNumAtoms() != mol.GetNumAtoms():
        return QED.qed(mol)
    return QED.qed(mol, qedProperties=QED.QEDproperties(
        MW=rdMolDescriptors._CalcMolWt(mol),
        ALOGP=Crippen.MolLogP(mol),
        HBA=sum(len(mol.GetSubstructMatches(pattern)) for pattern in QED.Acceptors if mol.HasSubstructMatch(pattern)),
        HBD=rdMolDescriptors.CalcNumHBD(mol),
        PSA=rdMolDescriptors.CalcTPSA(mol),
        ROTB=rdMolDescriptors.CalcNumRotatableBonds(mol, rdMolDescriptors.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=sum(1 for alert in QED.StructuralAlerts if mol.HasSubstructMatch(alert)),
    ))


def property_selection(value: Any, what: str = "properties") -> tuple[str, ...]:
    """``"all"``, ``"none"``, or names from :data:`PROPERTY_CHOICES` (``"mw,qed"``, ``"mw+qed"`` or a
    list) -> the names, in :data:`PROPERTY_CHOICES` order; ConfigError naming an unknown one."""
    if value is True or (isinstance(value, str) and value.strip().lower() == "all"):
        return PROPERTY_CHOICES
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        return ()
    items = re.split(r"[,+]", value) if isinstance(value, str) else list(value)
    names = {str(item).strip().lower() for item in items} - {""}
    unknown = sorted(names - set(PROPERTY_CHOICES))
    if unknown:
        raise ConfigError(f"{what}: unknown property {quoted(unknown[0])} "
                          f"(known: all, none, {', '.join(PROPERTY_CHOICES)})")
    return tuple(name for name in PROPERTY_CHOICES if name in names)


def _safe_value(function: Any, mol: Optional[Mol], integer: bool) -> Any:
    if mol is None:
        return math.nan
    try:
        value = function(mol)
    except Exception:
        return math.nan
    return int(value) if integer else float(value)


NON_METALS = frozenset("H He B C N O F Ne Si P S Cl Ar Ge As Se Br Kr Sb Te I Xe At Rn".split())  # metalloids too


def radical_electrons(mol: Mol) -> int:
    """Unpaired electrons on non-metal atoms (``[CH2]O`` has one, ``[C]=O`` two); metals are left to bare_metals."""
    radicals = (mol.GetAtomWithIdx(i) for i in range(mol.GetNumAtoms()))  # by index: twice as fast as GetAtoms()
    return sum(atom.GetNumRadicalElectrons() for atom in radicals
               if atom.GetNumRadicalElectrons() and atom.GetSymbol() in NON_METALS)


def bare_metals(mol: Mol) -> list[str]:
    """Symbols of uncharged metal atoms standing alone, bonded to nothing (``[Ca].[Mg]``)."""
    if mol.GetNumAtoms() > 1 and component_count(mol) == 1:  # one molecule of several atoms: none stands alone
        return []
    return [atom.GetSymbol() for atom in mol.GetAtoms()
            if atom.GetSymbol() not in NON_METALS and atom.GetDegree() == 0 and atom.GetFormalCharge() == 0
            and atom.GetTotalNumHs() == 0]


def component_count(mol: Mol) -> int:
    """Disconnected parts of the structure: 1 for one molecule, more for salts and mixtures."""
    return len(Chem.GetMolFrags(mol))


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


def fingerprint_array(mols: Iterable[Mol], radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """Morgan bit vectors of molecules as rows, ``(n, n_bits)`` uint8."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    rows = [generator.GetFingerprintAsNumPy(m) for m in mols]
    return np.array(rows, dtype=np.uint8).reshape(len(rows), n_bits)


def ring_count(mol: Mol) -> int:
    """Rings in the smallest set of smallest rings."""
    return mol.GetRingInfo().NumRings()


def is_missing(value: Any) -> bool:
    """True for ``None`` and float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def count_fingerprint(mol: Optional[Mol], radius: int = 2) -> Any:
    """Unhashed Morgan count fingerprint (GuacaMol's ECFP4 at radius 2), or ``None``."""
    if mol is None:
        return None
    with quiet_rdkit():
        try:
            return rdFingerprintGenerator.GetMorganGenerator(radius=radius).GetSparseCountFingerprint(mol)
        except Exception:
            return None


def murcko_scaffold(mol: Optional[Mol]) -> Optional[str]:
    """Canonical SMILES of the Bemis-Murcko scaffold (ring systems and their linkers; ``""`` for an acyclic
    molecule), or ``None`` when there is no molecule or RDKit fails."""
    if mol is None:
        return None
    from rdkit.Chem.Scaffolds import MurckoScaffold

    with quiet_rdkit():
        try:
            return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))
        except Exception:
            return None
