"""Analogs: aromatic substituents added, swapped or removed, one or two edits; the scaffold kept; names verified."""
import numpy as np

from chemgen.chem.analogs import analog_names, neighbourhood, single_point_analogs, widen_names
from chemgen.chem.molecules import mol_from_smiles, murcko_scaffold, smiles_of
from chemgen.chem.opsin import OpsinProcess

SERIES_MEMBER = "Cc1ccc(NC(=O)CSc2nnc(-c3ccco3)n2N)cc1F"  # from a MOSES test-scaffold series


def canon(smiles):
    return smiles_of(mol_from_smiles(smiles))


def test_toluene_gains_loses_and_swaps_one_substituent():
    found = single_point_analogs("Cc1ccccc1")
    assert {canon(s) for s in ("Cc1ccccc1F", "Cc1cccc(Cl)c1", "COc1ccc(C)cc1")} <= found  # one added
    assert {canon(s) for s in ("Fc1ccccc1", "N#Cc1ccccc1", "FC(F)(F)c1ccccc1")} <= found  # the methyl swapped
    assert "c1ccccc1" in found and canon("Cc1ccccc1") not in found  # removed; never the molecule itself
    assert all(mol_from_smiles(s).GetNumHeavyAtoms() <= 7 + 4 for s in found)  # one edit (CF3 the largest), not two


def test_analogs_keep_the_murcko_scaffold_and_unreadable_input_has_none():
    scaffold = murcko_scaffold(mol_from_smiles(SERIES_MEMBER))
    found = single_point_analogs(SERIES_MEMBER)
    assert len(found) > 50
    assert {murcko_scaffold(mol_from_smiles(s)) for s in found} == {scaffold}
    assert single_point_analogs("not a smiles") == set() and single_point_analogs("CCO") == set()


def test_the_neighbourhood_reaches_two_edits_and_leaves_the_series_out():
    series = ["Cc1ccccc1O"]
    near = single_point_analogs(series[0])
    pool = neighbourhood(series, 5, np.random.default_rng(0))
    farther = set(pool) - near
    assert near < set(pool) and canon(series[0]) not in pool
    assert all(any(s in single_point_analogs(n) for n in near) for s in list(farther)[:20])  # each one more edit
    assert neighbourhood(["CCO"], 5, np.random.default_rng(0)) == []


def test_analog_names_are_verified_new_and_reproducible():
    series = ["Cc1ccccc1O", "Clc1ccccc1O"]
    with OpsinProcess() as opsin:
        names = analog_names(series, 6, np.random.default_rng(0), opsin)
        again = analog_names(series, 6, np.random.default_rng(0), opsin)
        structures = [canon(r.smiles) for r in opsin.parse(names)]
    pool = neighbourhood(series, 6, np.random.default_rng(0))
    assert names == again and 4 <= len(names) <= 6  # a name OPSIN does not read back is left out
    assert set(structures) <= set(pool) and not {canon(s) for s in series} & set(structures)


def within_two_edits(source, smiles):
    near = single_point_analogs(source)
    return smiles in near or any(smiles in single_point_analogs(analog) for analog in near)


def test_widening_names_analogs_with_their_sources_scaffold_one_or_two_edits_away():
    """Each analog's name reads back (OPSIN) to a structure with the Murcko scaffold of a name OPSIN read,
    one or two edits from it; a name OPSIN cannot read adds nothing."""
    sources = [canon("Cc1ccccc1O"), canon("c1ccc(-c2ccccn2)cc1")]  # 2-methylphenol, 2-phenylpyridine
    names = widen_names(["2-methylphenol", "2-phenylpyridine", "not a compound name"], 3, random_state=0)
    assert 1 <= len(names) <= 6 and names == widen_names(["2-methylphenol", "2-phenylpyridine"], 3, random_state=0)
    with OpsinProcess() as opsin:
        structures = [canon(r.smiles) for r in opsin.parse(names)]
    scaffolds = [murcko_scaffold(mol_from_smiles(s)) for s in sources]
    assert scaffolds[0] != scaffolds[1]
    for name, smiles in zip(names, structures):
        assert smiles not in sources, name
        assert any(murcko_scaffold(mol_from_smiles(smiles)) == scaffold and within_two_edits(source, smiles)
                   for source, scaffold in zip(sources, scaffolds)), (name, smiles)
    assert widen_names(["2-methylphenol"], 0) == [] and widen_names([], 5) == []
