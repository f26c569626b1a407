"""Analogs of a series, named and verified, to widen a small fine-tuning set.

A chemist's series is usually a small combinatorial library: a few dozen
members sharing one scaffold, drawn from a handful of substituents. Fine-tuned
on it alone, a model learns the members themselves and samples them back. Its
analogs one or two edits away (an aromatic substituent added, swapped or
removed) keep every member's Murcko scaffold and vary its decoration, so a
model trained on the series and a share of them learns the scaffold rather
than the members. Each analog is named with openclatura and kept only when
OPSIN reads the name back to the same structure, as the series itself is.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem

from chemgen.chem.molecules import mol_from_smiles, quiet_rdkit, smiles_of
from chemgen.chem.namer import name_molecules
from chemgen.chem.opsin import OpsinProcess

MAX_SERIES = 10_000  # names, at most, a series may have to be widened (a larger set teaches scaffolds as it is)
SUBSTITUENTS = ("F", "Cl", "Br", "C", "OC", "C(F)(F)F", "C#N", "O")  # what may be added or swapped in
REPLACEABLE = ("F,Cl,Br;X1", "CH3", "OX2H", "$([OX2][CH3])", "$(C#N)")  # aromatic substituents that may change


@lru_cache(maxsize=1)
def _reactions() -> tuple:
    """One RDKit reaction per edit: add a substituent to an aromatic CH, or swap or remove one."""
    add = [f"[cH:1]>>[c:1]{group}" for group in SUBSTITUENTS]
    swap = [f"[c:1]-[{old}]>>[c:1]{new}" for old in REPLACEABLE for new in SUBSTITUENTS + ("[H]",)]
    return tuple(AllChem.ReactionFromSmarts(smarts) for smarts in add + swap)


def single_point_analogs(smiles: str) -> set[str]:
    """Canonical SMILES of every molecule one aromatic-substituent edit away from ``smiles`` (unreadable: none)."""
    mol = mol_from_smiles(smiles)
    if mol is None:
        return set()
    found = set()
    with quiet_rdkit():
        for reaction in _reactions():
            for products in reaction.RunReactants((mol,)):
                try:
                    product = products[0]
                    Chem.SanitizeMol(product)
                    found.add(Chem.MolToSmiles(Chem.RemoveHs(product)))
                except Exception:  # an edit RDKit cannot sanitise (a valence it breaks) is no analog
                    continue
    found.discard(smiles_of(mol))  # a swap for the same group gives the molecule back
    return found


def _draw(pool: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """Up to ``count`` distinct items of ``pool``, drawn at random in the order drawn."""
    return [pool[i] for i in rng.choice(len(pool), min(count, len(pool)), replace=False)]


def neighbourhood(structures: Sequence[str], seeds: int, rng: np.random.Generator) -> list[str]:
    """Canonical SMILES one or two edits from the series: its single-point analogs and, for ``seeds`` of them
    drawn at random, theirs (sorted; the series' own molecules excluded)."""
    members = {smiles_of(mol_from_smiles(s)) for s in structures}
    near = sorted(set().union(*(single_point_analogs(s) for s in structures)) - members)
    if not near:
        return []
    return sorted(set(near).union(*(single_point_analogs(s) for s in _draw(near, seeds, rng))) - members)


def analog_names(structures: Sequence[str], count: int, rng: np.random.Generator,
                 opsin: OpsinProcess) -> list[str]:
    """Verified names of up to ``count`` analogs drawn at random from the series' neighbourhood.

    Two edits rather than one keep the series' own members from being the
    centre every analog points back to, so fewer samples copy them
    (bench/finetune.py measured more new samples, the same scaffold share).
    """
    pool = neighbourhood(structures, count, rng) if count > 0 else []
    if not pool:
        return []
    return [named.name for named in name_molecules(_draw(pool, count, rng), opsin) if named.name]


def widen_names(names: Sequence[str], per_name: int, random_state: Optional[int] = None) -> list[str]:
    """Verified names of ``per_name`` analogs per name (drawn together) of the structures OPSIN reads."""
    if per_name <= 0 or not names:
        return []
    with OpsinProcess() as opsin:
        structures = [result.smiles for result in opsin.parse(names) if result.smiles]
        return analog_names(structures, per_name * len(structures), np.random.default_rng(random_state), opsin)
