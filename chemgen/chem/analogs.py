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
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem

from chemgen.chem.molecules import mol_from_smiles, quiet_rdkit, smiles_of
from chemgen.chem.namer import name_molecules
from chemgen.chem.opsin import OpsinProcess
from chemgen.errors import ConfigError
from chemgen.io.names import validate_names
from chemgen.io.settings import CheckedSettings, non_negative_int, setting

FINE_TUNE_ANALOGS = 10  # analogs per member when fine-tuning (--init) and --analogs is not given


def optional_count(name: str, value: object) -> str:
    return "" if value is None else non_negative_int(name, value)


@dataclass(frozen=True)
class AnalogConfig(CheckedSettings):
    """How a series is widened before training (``chemgen train --analogs``)."""

    analogs: Optional[int] = setting(
        None, "analogs per name added to the training names (one or two edits: an aromatic substituent added, "
              "swapped or removed; named and OPSIN-checked like a series), so a small series teaches its scaffold "
              f"rather than its members (0: off; default 0, or {FINE_TUNE_ANALOGS} with --init)", optional_count,
        "--analogs", metavar="N")

    def per_name(self, fine_tuning: bool) -> int:
        """Analogs per name for this run: as given, else the default of its kind."""
        return self.analogs if self.analogs is not None else (FINE_TUNE_ANALOGS if fine_tuning else 0)


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


def with_analogs(names: Sequence[str], per_name: int, random_state: Optional[int] = None,
                 log: Optional[Callable[[str], None]] = None) -> list[str]:
    """The names and ``per_name`` verified analogs per name, so a small series teaches its scaffold.

    Checked before OPSIN starts: the names (as training names) and the series' size (at most MAX_SERIES).
    """
    names = validate_names(names)
    if per_name <= 0:
        return names
    if len(names) > MAX_SERIES:
        raise ConfigError(f"analogs={per_name} (--analogs; a fine-tuning default) widens small series only, at most "
                          f"{MAX_SERIES:,} names, and this set has {len(names):,}: set analogs to 0")
    extra = widen_names(names, per_name, random_state)
    if log is not None:
        log(f"{len(extra)} analogs (one or two edits away, named, OPSIN-checked) added to the {len(names)} names")
    return names + extra
